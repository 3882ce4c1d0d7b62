package runners

import (
	"context"
	"errors"
	"fmt"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/archive"
	"cloister/internal/decision"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/queue"
)

// Archive stores each distributed post in its list's archive (package
// archive: a Maildir under archive/<list>/, one file per message named
// after the entry id) as it left the pipeline, and hands a copy to the
// digest queue when members of the list take digests. A list whose posts
// may be encrypted (any pgp_*/smime_* setting other than no), or a post that
// arrived encrypted, is archived encrypted to the list's archive key, made
// on first use; nothing of it is ever stored in clear. archive_keep_days is
// applied at most once an hour per list.
type Archive struct{}

// Name implements Runner.
func (Archive) Name() string { return "archive" }

// Queue implements Runner.
func (Archive) Queue() string { return queue.Archive }

// Description implements Runner.
func (Archive) Description() string {
	return "store distributed posts in the list's archive (encrypted to the archive key for encrypted lists) and feed digests"
}

// errStop ends a walk over the roster early.
var errStop = errors.New("stop")

// Process implements Runner.
func (Archive) Process(ctx context.Context, j *Job) error {
	var list *lists.List
	digests := false
	err := j.Site.Lists.View(func(tx *lists.Tx) error {
		var err error
		if list, err = tx.List(j.Meta.List); err != nil {
			return err
		}
		err = tx.ForEachMember(list.Address, func(m *lists.Member) error {
			if m.ReceivesDigest() {
				digests = true
				return errStop
			}
			return nil
		})
		if errors.Is(err, errStop) {
			err = nil
		}
		return err
	})
	if errors.Is(err, lists.ErrNoList) {
		return Permanent("list %s no longer exists", j.Meta.List)
	}
	if err != nil {
		return err
	}
	// The archive key first: making it (once per list) unlocks the
	// keyring, whose Argon2id memory is then free again for the post.
	archiving := list.Settings.Archive != "none"
	var to *openpgp.Entity
	if archiving && archive.MustEncrypt(list.Settings, j.Meta) {
		to, err = archiveKey(j.Site, list.Address)
		switch {
		case errors.Is(err, errNoArchiveKeys):
			// Never stored in clear (security invariant 2).
			j.Log.Info("decision", "decision", decision.NotArchived, "reason", "encrypted list and no keyring for an archive key")
			archiving = false
		case err != nil:
			return err
		}
	}
	body, err := j.Body()
	if err != nil {
		return err
	}
	if digests {
		m := j.Meta.Clone()
		m.Kind = "post"
		m.AddStage("archive", "to digest")
		j.Send(digestQueue, m, body)
	}
	if !archiving {
		return nil
	}
	st := archive.For(j.Site, list.Address)
	path, err := st.Append(j.Meta.ID, body, to, j.Now)
	if err != nil {
		return err
	}
	j.Log.Info("decision", "decision", decision.Archived, "file", path, "encrypted", to != nil)
	if n, err := st.ExpireEvery(list.Settings.ArchiveKeepDays, j.Now, time.Hour); err != nil {
		j.Log.Warn("archive expiry failed", "err", err)
	} else if n > 0 {
		j.Log.Info("decision", "decision", decision.ArchiveExpired, "removed", n, "keep_days", list.Settings.ArchiveKeepDays)
	}
	return nil
}

// errNoArchiveKeys means the site's keys cannot hold archive keys.
var errNoArchiveKeys = errors.New("no keyring for archive keys")

// archiveKey returns the list's public archive key, making the key first
// when the list has none.
func archiveKey(s *site.Site, list string) (*openpgp.Entity, error) {
	if s.Keys == nil || s.ArchiveKeys == nil {
		return nil, errNoArchiveKeys
	}
	pk := s.ArchiveKeys
	k, err := pk.ArchiveKey(list)
	if !errors.Is(err, site.ErrNoListKey) {
		return k, err
	}
	if _, gerr := pk.GenerateArchiveKey(list); gerr != nil {
		// Another process may have made it meanwhile.
		if k, err := pk.ArchiveKey(list); err == nil {
			return k, nil
		}
		return nil, fmt.Errorf("make archive key of %s: %w", list, gerr)
	}
	return pk.ArchiveKey(list)
}
