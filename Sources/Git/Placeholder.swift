// Git: see README.md
