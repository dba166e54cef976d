// Package store is the home of Hearth's persistence adapters. The embedded default is
// store/sqlite; each adapter implements the storage interfaces declared by the domain
// packages (auth.Store, events.Log) and passes their conformance suites.
package store
