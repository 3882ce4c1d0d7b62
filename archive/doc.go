// Package archive keeps each list's archive: a Maildir of the posts as they
// left the pipeline, encrypted to the list's archive key when the list may
// carry encrypted posts, with an index, retrieval by number, export as mbox
// or Maildir, and retention by age.
package archive
