//! Mutated notebooks through the command line path (written below).
