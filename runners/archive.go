package runners

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"cloister/lists"
	"cloister/queue"
)

// Archive stores each distributed post in its list's archive, a Maildir under
// archive/<list>/ (one file per message, written atomically and named after
// the entry id, so a repeated hand-over replaces rather than duplicates and no
// lock is needed between writers).
type Archive struct{}

// Name implements Runner.
func (Archive) Name() string { return "archive" }

// Queue implements Runner.
func (Archive) Queue() string { return queue.Archive }

// Description implements Runner.
func (Archive) Description() string { return "store distributed posts in the list's Maildir archive" }

// Process implements Runner.
func (Archive) Process(ctx context.Context, j *Job) error {
	var mode string
	err := j.Site.Lists.View(func(tx *lists.Tx) error {
		l, err := tx.List(j.Meta.List)
		if err != nil {
			return err
		}
		mode = l.Settings.Archive
		return nil
	})
	if errors.Is(err, lists.ErrNoList) {
		return Permanent("list %s no longer exists", j.Meta.List)
	}
	if err != nil {
		return err
	}
	if mode == "none" {
		return nil
	}
	if j.Meta.Sealed != nil || (j.Meta.Encryption != "" && j.Meta.Encryption != "none") {
		// Never stored in clear (security invariant 2): the archive key
		// encryption arrives with the archive work; until then encrypted
		// posts are not archived.
		j.Log.Info("decision", "decision", "not archived", "reason", "encrypted post and no archive key")
		return nil
	}
	body, err := j.Body()
	if err != nil {
		return err
	}
	dir := j.Site.Config.ArchiveDir(j.Meta.List)
	for _, sub := range []string{"tmp", "new", "cur"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return fmt.Errorf("create archive %s: %w", dir, err)
		}
	}
	name := fmt.Sprintf("%s.%s", j.Meta.ID, "cloister")
	err = queue.WriteFileAtomic(filepath.Join(dir, "new", name), 0o640, func(w io.Writer) error {
		_, err := w.Write(body)
		return err
	})
	if err != nil {
		return fmt.Errorf("archive post: %w", err)
	}
	j.Log.Info("decision", "decision", "archived", "file", name)
	return nil
}
