"""One modal per file: forms, confirmations, small prompts, search and help."""
