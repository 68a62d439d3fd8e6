// Compiled once per build: the precompiled header (Catch2 and braid) that
// every test file reuses.
