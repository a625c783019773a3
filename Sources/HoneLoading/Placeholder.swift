// HoneLoading: see README.md
