// HoneModel: see README.md
