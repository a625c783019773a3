// HoneEngine: see README.md
