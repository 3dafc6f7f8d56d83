// Package dbtest starts real database servers for tests, one per test that asks, each in a
// folder of its own on a free loopback port, stopped when the test ends: what the engines'
// wire tests log in to. Unlike clustertest it starts no Kubernetes, so a test pays only for the
// server it needs. A test skips, saying what to install, when the server's programs are absent.
package dbtest
