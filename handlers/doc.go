// Package handlers holds the pipeline handlers that prepare a post for
// distribution (List-* headers, subject prefix, footer, DMARC mitigation,
// anonymity, content filtering, protected headers), one file per handler,
// listed in one table (All) and run in the order a list's pipeline names them.
package handlers
