// HonePlanning: see README.md
