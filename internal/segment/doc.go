// Package segment is thaw's data model: the X-Ray segment document, its
// identifiers and tracing header, validation of incoming documents, and the
// assembly of a trace's documents into one tree.
//
// It is the bottom of the dependency graph and imports only the standard
// library.
package segment
