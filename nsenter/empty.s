// Empty: lets the package declare the bodyless functions reached with go:linkname.
