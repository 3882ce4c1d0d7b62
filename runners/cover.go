package runners

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strings"
	"time"

	"cloister/distribute"
	"cloister/handlers"
	"cloister/internal/decision"
	"cloister/internal/listaddr"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/queue"
)

// Cover sends cover traffic: for each list with cover_traffic on, encrypted
// and signed dummy posts to its subscribers at random times, so that an
// observer of the mail between the list, the MTA and the subscribers cannot
// tell from timing and volume when the list carries a real post.
//
// The dummies of one list form a Poisson process of rate
// cover_traffic_per_day for each subscriber with a key: one timer entry per
// list waits in the cover queue, named for the time its dummy falls due
// (queue entries are not processed before that time). When it falls due, the
// runner picks a subscriber at random, hands a dummy to the outgoing queue
// as a post for that subscriber alone, and stages the next timer an
// exponentially distributed time later, in the same durable hand-over: a
// restart neither loses the schedule (the timer is on disk) nor bursts (one
// timer makes one dummy, however late it is processed; the process is
// memoryless, so the next one is drawn from now). A dummy is a post from the
// list run through the list's own pipeline (so it has the header fields of a
// real post), marked with Cloister-Cover: 1, and treated by the outgoing
// runner as content of an encrypted post: sealed at rest, encrypted and
// signed per subscriber by the same distributor as real copies, the marker
// moved inside the encryption, and padded to the same size buckets as real
// copies (distribute.CoverBucket). Run one cover runner process per site (no slices).
type Cover struct {
	// Rand, when set, draws the times and recipients instead of a generator
	// seeded from crypto/rand (tests set a fixed seed). It is used by one
	// entry at a time.
	Rand *mrand.Rand
}

// Name implements Runner.
func (Cover) Name() string { return "cover" }

// Queue implements Runner.
func (Cover) Queue() string { return queue.Cover }

// Description implements Runner.
func (Cover) Description() string {
	return "send encrypted dummy posts at random times to the subscribers of lists with cover_traffic"
}

const (
	kindCoverTimer = "cover-timer"
	// coverIdle is how long a list without a subscriber who has a key waits
	// before its timer looks again.
	coverIdle = time.Hour
	// coverMaxBody bounds the filler of one dummy.
	coverMaxBody = 60 << 10
)

// coverRand returns a generator seeded from crypto/rand: the times and
// recipients of dummies must not be predictable.
func coverRand() *mrand.Rand {
	var seed [32]byte
	rand.Read(seed[:])
	return mrand.New(mrand.NewChaCha8(seed))
}

// coverNext draws the wait until a list's next dummy, for n subscribers
// with a key, each of whom receives perDay dummies a day on average: the
// superposition of n Poisson processes of rate perDay is one of rate
// n*perDay, whose waits are exponential.
func coverNext(r *mrand.Rand, n, perDay int) time.Duration {
	if n < 1 || perDay < 1 {
		return coverIdle
	}
	mean := float64(24*time.Hour) / float64(n*perDay)
	d := time.Duration(r.ExpFloat64() * mean)
	return max(d, time.Second)
}

// coverDigest is the digest part of the names of a list's timers.
func coverDigest(list string) string {
	h := sha256.Sum256([]byte("cover timer\x00" + strings.ToLower(list)))
	return hex.EncodeToString(h[:16])
}

// coverTimer is the metadata of a list's timer due at at.
func coverTimer(list string, at, now time.Time) *queue.Meta {
	return &queue.Meta{ID: queue.NewID(at, coverDigest(list)), List: list, Subaddress: queue.SubPost,
		Kind: kindCoverTimer, Received: now, Encryption: "none"}
}

// Schedule gives every list with cover_traffic on a timer when it has none
// (a list that just turned it on, or a new site). The loop calls it when it
// starts and now and then while it runs.
func (Cover) Schedule(s *site.Site, now time.Time) error {
	var on []*lists.List
	err := s.Lists.View(func(tx *lists.Tx) error {
		all, err := tx.Lists()
		if err != nil {
			return err
		}
		for _, l := range all {
			if l.Settings.CoverTraffic {
				on = append(on, l)
			}
		}
		return nil
	})
	if err != nil || len(on) == 0 {
		return err
	}
	q := s.Queue(queue.Cover)
	pending, err := q.Pending(queue.All)
	if err != nil {
		return err
	}
	claimed, err := q.Claimed(queue.All)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, n := range append(pending, claimed...) {
		if _, d, ok := strings.Cut(n, "+"); ok {
			have[strings.SplitN(d, ".", 2)[0]] = true
		}
	}
	r := coverRand()
	for _, l := range on {
		if have[coverDigest(l.Address)] {
			continue
		}
		n, err := coverSubscribers(s, l, now)
		if err != nil {
			return err
		}
		m := coverTimer(l.Address, now.Add(coverNext(r, len(n), l.Settings.CoverTrafficPerDay)), now)
		if _, err := q.EnqueueAt(m, strings.NewReader(""), 0, time.Time{}); err != nil {
			return fmt.Errorf("schedule cover traffic for %s: %w", l.Address, err)
		}
		s.Log.Info("decision", "decision", decision.CoverScheduled, "list", l.Address, "subscribers", len(n))
	}
	return nil
}

// coverSubscribers returns the members of the list who receive posts and
// have a key the list can encrypt to: only they get dummies (a subscriber
// without one would get a no-key notice instead, which says it is not a post).
func coverSubscribers(s *site.Site, l *lists.List, now time.Time) ([]string, error) {
	_, rcpts, err := listWith(s, l.Address, (*lists.Member).Receives)
	if err != nil || s.Keys == nil {
		return nil, err
	}
	hasPGP, hasSMIME := true, true
	if _, err := s.Keys.ListPGP(l.Address); err != nil {
		if !isNoListKey(err) {
			return nil, err
		}
		hasPGP = false
	}
	if _, _, _, err := s.Keys.ListSMIME(l.Address); err != nil {
		if !isNoListKey(err) {
			return nil, err
		}
		hasSMIME = false
	}
	var out []string
	for _, r := range rcpts {
		if hasPGP {
			if _, err := s.Keys.EncryptionPGP(r, now); err == nil {
				out = append(out, r)
				continue
			}
		}
		if hasSMIME {
			if _, err := s.Keys.EncryptionCert(r, now); err == nil {
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// Process implements Runner.
func (c Cover) Process(ctx context.Context, j *Job) error {
	if j.Meta.Kind != kindCoverTimer {
		return Permanent("not a cover timer: %q", j.Meta.Kind)
	}
	var list *lists.List
	err := j.Site.Lists.View(func(tx *lists.Tx) error {
		var err error
		list, err = tx.List(j.Meta.List)
		return err
	})
	if errors.Is(err, lists.ErrNoList) {
		return nil // the list is gone, and its timer with it
	}
	if err != nil {
		return err
	}
	if !list.Settings.CoverTraffic {
		j.Log.Info("decision", "decision", decision.CoverStopped)
		return nil
	}
	rcpts, err := coverSubscribers(j.Site, list, j.Now)
	if err != nil {
		return err
	}
	r := c.Rand
	if r == nil {
		r = coverRand()
	}
	if len(rcpts) > 0 {
		rcpt := rcpts[r.IntN(len(rcpts))]
		dummy, m, err := coverDummy(ctx, j, list, rcpt, r)
		if err != nil {
			return err
		}
		j.Send(queue.Out, m, dummy)
	}
	next := j.Now.Add(coverNext(r, len(rcpts), list.Settings.CoverTrafficPerDay))
	j.Send(queue.Cover, coverTimer(list.Address, next, j.Now), nil)
	j.Log.Info("decision", "decision", decision.Cover, "subscribers", len(rcpts), "next", next.UTC().Format(time.RFC3339))
	return nil
}

// coverDummy builds a dummy post for rcpt: a message from the list, run
// through the list's pipeline as a real post is, with the cover marker, and
// its metadata for the outgoing queue (a post for rcpt alone, carrying
// content that may only leave encrypted).
func coverDummy(ctx context.Context, j *Job, list *lists.List, rcpt string, r *mrand.Rand) ([]byte, *queue.Meta, error) {
	domain := listaddr.Domain(list.Address)
	var idb [12]byte
	binary.LittleEndian.PutUint64(idb[:], r.Uint64())
	binary.LittleEndian.PutUint32(idb[8:], r.Uint32())
	h := mailmsg.NewHeaderWriter("\n")
	h.Address("From", list.Address)
	h.Address("To", list.Address)
	h.Text("Subject", "Cover traffic")
	h.Field("Date", j.Now.UTC().Format(time.RFC1123Z))
	h.MsgID("Message-ID", "<"+hex.EncodeToString(idb[:])+"@"+domain+">")
	h.Field("MIME-Version", "1.0")
	h.Field("Content-Type", "text/plain; charset=us-ascii")
	h.Field("Content-Transfer-Encoding", "7bit")
	var b strings.Builder
	b.WriteString(h.String())
	b.WriteString("\n")
	b.WriteString("This message is cover traffic from " + list.Address + ": it carries no post.\n")
	b.WriteString("Its header field " + distribute.CoverField + ": 1 lets your mail filter or client hide it.\n\n")
	b.WriteString(coverFiller(r))
	msg, err := mailmsg.Parse([]byte(b.String()))
	if err != nil {
		return nil, nil, fmt.Errorf("build dummy: %w", err)
	}
	m := &queue.Meta{
		ID:         queue.NewID(j.Now, hex.EncodeToString(idb[:])),
		List:       list.Address,
		Subaddress: queue.SubPost,
		Kind:       "post",
		Sender:     list.Address,
		From:       list.Address,
		Recipients: []string{rcpt},
		EnvFrom:    listaddr.Address(list.Address, queue.SubBounces),
		Received:   j.Now,
		Encryption: "none",
		// Never in clear: the distributor encrypts it or sends nothing.
		Carries: queue.CarriesPlaintext,
	}
	hctx := &handlers.Context{List: list, Domain: j.Site.Config.Domain, Meta: m, Msg: msg, Now: j.Now, Ctx: ctx}
	if _, err := handlers.Run(handlers.DefaultPipeline(), hctx); err != nil {
		return nil, nil, fmt.Errorf("dummy through the pipeline: %w", err)
	}
	msg.Set(distribute.CoverField, "1") // after cleanse, which removes it from real posts
	m.AddStage("cover", "dummy post")
	return msg.Bytes(), m, nil
}

// coverFiller is the text of a dummy: lines of random letters, their total
// length drawn so that dummies are spread over the smaller size buckets as
// most posts are (exponential, mean 3 KiB, at most coverMaxBody).
func coverFiller(r *mrand.Rand) string {
	n := int(math.Min(r.ExpFloat64()*3072, coverMaxBody))
	const letters = "abcdefghijklmnopqrstuvwxyz"
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i%72 == 71 {
			b.WriteByte('\n')
			continue
		}
		b.WriteByte(letters[r.IntN(len(letters))])
	}
	b.WriteByte('\n')
	return b.String()
}
