package queue

import "cloister/internal/safeio"

// The queue's fault hook reaches every durable write made through safeio
// (lists, archive, journals...), not only the queue's own.
func init() { safeio.FaultHook = fault }

// FaultHook, when set, is called at each named point of the queue's writes
// and of the hand-over protocol (see the Point constants), and an error it
// returns is returned as the write's own error. Fault-injection tests use it
// to simulate a full disk or I/O errors at each write path, and to kill a
// process at each crash point of the protocol. It is nil in production; set it
// before any runner starts and leave it set until they stop.
var FaultHook func(point string) error

// Points at which FaultHook is called. The write points come before the
// system call they name; the crash points of the hand-over protocol lie
// between two durable steps (docs/design.md argues each).
const (
	PointCreate  = safeio.PointCreate  // creating a temp or spool file
	PointWrite   = safeio.PointWrite   // writing a temp file's bytes
	PointSync    = safeio.PointSync    // fsync of a written file
	PointRename  = safeio.PointRename  // renaming a written file into place (or staging it)
	PointSyncDir = safeio.PointSyncDir // fsync of a directory after a rename or removal
	PointRemove  = "remove"            // removing a claim

	// PointStaged: every output is staged and durable; the ledger is not written.
	PointStaged = "staged"
	// PointCommitted: the ledger is durable; no output is published yet.
	PointCommitted = "committed"
	// PointPublished: every output is published; the claim is still there.
	PointPublished = "published"
	// PointFinished: the claim is removed; the ledger is still there.
	PointFinished = "finished"
)

// fault calls FaultHook at a point.
func fault(point string) error {
	if FaultHook == nil {
		return nil
	}
	return FaultHook(point)
}
