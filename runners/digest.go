package runners

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"cloister/digest"
	"cloister/internal/decision"
	"cloister/internal/listaddr"
	"cloister/lists"
	"cloister/queue"
)

// digestQueue is the queue the archive runner feeds with the posts of lists
// that have digest members, and where the digest runner keeps its timers.
const digestQueue = queue.Digest

// Digest gathers the posts of lists whose members take digests (delivery
// digest) and sends each list's digest to those members when the posts
// waiting reach digest_size_kb, or when the oldest has waited
// digest_period_hours. It is queue-driven, with no clock of its own: the
// first post of a new digest also queues a timer entry named for the time
// the digest falls due (queue entries are not processed before the time in
// their name), and the timer sends the digest then if size has not sent it
// first. Package digest keeps the waiting posts (sealed when they hold
// plaintext of an encrypted post) and builds the digest, handed to the
// outgoing runner as a post: for a list with encryption it is signed and
// encrypted like any post, and a digest holding a post that arrived
// encrypted goes out encrypted only. Run one
// digest runner process per site (no slices): two would both send a
// digest that falls due at the same moment.
type Digest struct{}

// Name implements Runner.
func (Digest) Name() string { return "digest" }

// Queue implements Runner.
func (Digest) Queue() string { return digestQueue }

// Description implements Runner.
func (Digest) Description() string {
	return "gather posts for members with delivery digest and send a digest by size or period"
}

// kindDigestTimer is the kind of a digest's timer entry.
const kindDigestTimer = "digest-timer"

// Process implements Runner.
func (Digest) Process(ctx context.Context, j *Job) error {
	var list *lists.List
	var rcpts []string
	err := j.Site.Lists.View(func(tx *lists.Tx) error {
		var err error
		if list, err = tx.List(j.Meta.List); err != nil {
			return err
		}
		return tx.ForEachMember(list.Address, func(m *lists.Member) error {
			if m.ReceivesDigest() {
				rcpts = append(rcpts, m.Address)
			}
			return nil
		})
	})
	if errors.Is(err, lists.ErrNoList) {
		if j.Meta.Kind == kindDigestTimer {
			return nil
		}
		return Permanent("list %s no longer exists", j.Meta.List)
	}
	if err != nil {
		return err
	}
	dir := digest.Dir(j.Site.Config.StateDir, list.Address)
	if j.Meta.Kind != kindDigestTimer {
		body, err := j.Body()
		if err != nil {
			return err
		}
		err = digest.Add(j.Site, dir, j.Meta, body)
		if errors.Is(err, digest.ErrEntryID) {
			return Permanent("entry id %q is not a plain name", j.Meta.ID)
		}
		if err != nil {
			return err
		}
	}
	posts, err := digest.Waiting(dir)
	if err != nil || len(posts) == 0 {
		return err
	}
	if len(rcpts) == 0 { // nobody takes digests any more
		j.AfterFinish(func() { digest.Remove(posts) })
		return nil
	}
	due, at := digest.Due(list.Settings, posts, j.Now)
	switch {
	case !due && j.Meta.Kind == kindDigestTimer:
		return &RetryError{At: at, Reason: "digest not due yet"}
	case !due && len(posts) == 1:
		h := sha256.Sum256([]byte("digest timer\x00" + list.Address))
		j.Send(digestQueue, &queue.Meta{ID: queue.NewID(at, hex.EncodeToString(h[:16])), List: list.Address,
			Subaddress: queue.SubPost, Kind: kindDigestTimer, Received: j.Now, Encryption: "none"}, nil)
		return nil
	case !due:
		return nil
	}
	return sendDigest(j, list, rcpts, dir, posts)
}

// sendDigest builds the digest of the waiting posts and hands it to the
// outgoing queue; the posts are removed and the issue number kept once the
// hand-over is durable.
func sendDigest(j *Job, list *lists.List, rcpts []string, dir string, posts []digest.Post) error {
	bodies, enc, err := digest.Read(j.Site, posts)
	if err != nil {
		return err
	}
	h := sha256.New()
	for _, p := range posts {
		h.Write([]byte(p.ID + "\x00"))
	}
	st := digest.Next(dir, j.Now)
	msg := digest.Build(list, st, bodies, j.Now)
	m := &queue.Meta{
		ID:         queue.NewID(posts[0].At, hex.EncodeToString(h.Sum(nil)[:16])),
		List:       list.Address,
		Subaddress: queue.SubPost,
		Kind:       "post",
		Recipients: rcpts,
		EnvFrom:    listaddr.Address(list.Address, queue.SubBounces),
		From:       listaddr.Address(list.Address, queue.SubRequest),
		Received:   j.Now,
		Encryption: "none",
	}
	m.Carries = queue.CarriesClear
	m.Lineage = &queue.Lineage{ID: posts[0].ID}
	if enc != "" {
		// Distributed encrypted only, sealed in the queue.
		m.Encryption, m.Carries, m.Lineage.Encrypted = enc, queue.CarriesPlaintext, true
	}
	m.AddStage("digest", fmt.Sprintf("volume %d issue %d, %d posts", st.Volume, st.Issue, len(posts)))
	j.Send(queue.Out, m, msg)
	j.AfterFinish(func() {
		digest.Remove(posts)
		st.Save(dir)
	})
	j.Log.Info("decision", "decision", decision.Digest, "volume", st.Volume, "issue", st.Issue, "posts", len(posts),
		"recipients", len(rcpts), "format", list.Settings.DigestFormat, "encrypted", enc != "")
	return nil
}
