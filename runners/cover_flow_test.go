package runners

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"cloister/distribute"
	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
	"cloister/queue"
)

// coverSite is encryptedSite with cover traffic on: ann and bob have keys,
// cat has none.
func coverSite(t *testing.T, perDay string) (*testSite, map[string]*gnupg.Home) {
	t.Helper()
	s, homes := encryptedSite(t)
	s.setList(t, map[string]string{"cover_traffic": "yes", "cover_traffic_per_day": perDay})
	return s, homes
}

// openCopy decrypts a copy with gpg, checks the list's signature, and
// returns the decrypted entity.
func openCopy(t *testing.T, h *gnupg.Home, msg []byte) []byte {
	t.Helper()
	pt, status, err := h.Decrypt(armoredPart(t, msg))
	if err != nil {
		t.Fatalf("gpg cannot decrypt: %v\n%s", err, status)
	}
	if !strings.Contains(status, "GOODSIG") {
		t.Fatalf("no good list signature:\n%s", status)
	}
	return pt
}

// fieldNames returns the names of a message's header fields, lower-cased,
// in order.
func fieldNames(t *testing.T, msg []byte) []string {
	t.Helper()
	m, err := mailmsg.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range m.Fields {
		out = append(out, strings.ToLower(f.Name))
	}
	return out
}

// TestCoverDummiesThroughTheRunners: with cover_traffic on, the cover
// runner's timer makes one dummy for ann or bob (the subscribers with a
// key), which the outgoing runner sends like a real copy. The dummy and the
// copies of Bob's encrypted posts (one in each size bucket a dummy can fall
// in) decrypt with the subscriber's gpg and carry the list's good
// signature; every encrypted entity is padded to its bucket; the marker
// Cloister-Cover: 1 is inside the dummy's encryption only; the dummy and the
// real copy of its bucket to the same subscriber have the same header
// fields and encrypted parts of the same size; cat, who has no key, gets no
// dummy; and one timer, due later, is left in the cover queue.
func TestCoverDummiesThroughTheRunners(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := coverSite(t, "1")
	// The timer as a runner that started a month ago would have queued it:
	// due long ago, so the drain processes it now.
	if err := (Cover{}).Schedule(s.Site, time.Now().Add(-30*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.files(t, queue.Cover)); n != 1 {
		t.Fatalf("%d timers queued, want 1", n)
	}
	// Real posts of sizes in every bucket a dummy can fall in (4 to 64 KiB),
	// and one above, so that one real copy shares the dummy's bucket.
	sizes := []int{100, 5000, 10000, 20000, 40000, 70000}
	for i, n := range sizes {
		text := strings.Repeat(strings.Repeat("p", 69)+"\r\n", n/71+1)
		inner := []byte("Content-Type: text/plain; charset=utf-8\r\n\r\n" + text)
		post := homes["bob@subs.test"].PGPMIMEEncrypted(fmt.Sprintf("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Plan %d\n"+
			"Date: Wed, 02 Dec 2026 01:00:00 +0000\nMessage-ID: <plan%d@subs.test>\n", i, i),
			inner, true, "bob@subs.test", "team@lists.test")
		s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	}
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}

	type opened struct {
		to   string
		msg  []byte
		size int // the decrypted entity, canonical
	}
	var dummies []opened
	reals := map[string][]opened{}
	for _, addr := range []string{"ann@subs.test", "bob@subs.test"} {
		for _, msg := range s.mailbox(t, addr) {
			if bytes.Contains(msg, []byte(distribute.CoverField)) || bytes.Contains(msg, []byte("Cover traffic")) {
				t.Fatalf("the marker or the dummy's subject is outside the encryption:\n%s", msg)
			}
			pt := openCopy(t, homes[addr], msg)
			ent, err := mailmsg.Parse(pt)
			if err != nil {
				t.Fatal(err)
			}
			n := len(rawmime.Canonical(pt))
			if b := distribute.CoverBucket(n); n != b {
				t.Errorf("%s: encrypted entity of %d bytes, not padded to its bucket %d", addr, n, b)
			}
			if ent.Get(distribute.CoverField) == "1" {
				dummies = append(dummies, opened{addr, msg, n})
			} else {
				reals[addr] = append(reals[addr], opened{addr, msg, n})
			}
		}
	}
	// One dummy from the timer; a second only if the next timer, drawn at
	// random, fell due while the drain was still running.
	if len(dummies) < 1 || len(reals["ann@subs.test"]) != len(sizes) || len(reals["bob@subs.test"]) != len(sizes) {
		t.Fatalf("%d dummies and %d+%d real copies, want at least 1 and %d each", len(dummies), len(reals["ann@subs.test"]), len(reals["bob@subs.test"]), len(sizes))
	}
	for _, d := range dummies {
		// The real copy to the same subscriber (same key) in the dummy's bucket.
		var r []byte
		for _, c := range reals[d.to] {
			if c.size == d.size {
				r = c.msg
			}
		}
		if r == nil {
			t.Fatalf("no real copy in the dummy's bucket of %d bytes", d.size)
		}
		if rn, dn := fieldNames(t, r), fieldNames(t, d.msg); !slices.Equal(rn, dn) {
			t.Errorf("header fields differ:\nreal:  %v\ndummy: %v", rn, dn)
		}
		// The encrypted parts are framed alike: the same key packet and
		// the encrypted packet cut into the same partial lengths, its last
		// part as long but for the leading zero octets the list's
		// signature's MPIs may lose (RFC 9580 3.2), the only length that
		// varies; the header values (From, Date, Message-ID, the VERP
		// address) differ by a few bytes.
		rs, da := encryptedShape(t, armoredPart(t, r)), encryptedShape(t, armoredPart(t, d.msg))
		if rs.key > da.key+1 || da.key > rs.key+1 || rs.partials != da.partials || rs.last > da.last+2 || da.last > rs.last+2 {
			t.Errorf("encrypted parts framed %+v and %+v in the bucket of %d", rs, da, d.size)
		}
		if diff := len(r) - len(d.msg); diff > 100 || diff < -100 {
			t.Errorf("copies of %d and %d bytes", len(r), len(d.msg))
		}
	}
	if box := s.mailbox(t, "cat@subs.test"); len(box) != len(sizes) {
		t.Errorf("cat (no key) received %d messages, want only the %d no-key notices", len(box), len(sizes))
	}
	timers := s.files(t, queue.Cover)
	if len(timers) != 1 {
		t.Fatalf("cover queue holds %v, want one timer", timers)
	}
	nanos, _, _ := strings.Cut(timers[0], "+")
	due, _ := strconv.ParseInt(nanos, 10, 64)
	if !time.Unix(0, due).After(time.Now().Add(-time.Minute)) {
		t.Errorf("the next timer is due %v, in the past", time.Unix(0, due))
	}
	if hits := grepTree(t, s.Config.StateDir, "cover traffic from"); len(hits) != 0 {
		t.Errorf("the dummy's text is on disk in clear: %v", hits)
	}
}

// TestCoverMarkerFromSenderRemoved: a sender who writes Cloister-Cover: 1
// in a post (so that the subscribers' filters would drop it) does not get
// it through: the copies do not carry the marker, inside or out.
func TestCoverMarkerFromSenderRemoved(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := coverSite(t, "1")
	inner := []byte("Content-Type: text/plain; charset=utf-8\r\n\r\nRead me.\r\n")
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Hidden\n"+
		"Cloister-Cover: 1\nMessage-ID: <hidden@subs.test>\n", inner, true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.drain(t)
	box := s.mailbox(t, "ann@subs.test")
	if len(box) == 0 {
		t.Fatalf("ann received nothing; bad %q", s.badReasons(t))
	}
	for _, msg := range box {
		pt := openCopy(t, homes["ann@subs.test"], msg)
		if bytes.Contains(msg, []byte(distribute.CoverField)) || bytes.Contains(pt, []byte(distribute.CoverField)) {
			t.Fatalf("a real post carries the cover marker:\n%s", pt)
		}
	}
}

// TestCoverRate drives the cover runner on a fake clock with a fixed seed
// for 250 days: each of the two subscribers with a key (ann, bob; cat has
// none) receives about cover_traffic_per_day dummies a day, the waits
// between dummies are exponential with the right mean, and a timer
// processed days late makes one dummy, not a burst.
func TestCoverRate(t *testing.T) {
	testdirs.Slow(t, "drives the runners through many mails")
	s, _ := coverSite(t, "2")
	c := Cover{Rand: mrand.New(mrand.NewPCG(20, 26))}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(250 * 24 * time.Hour)
	timer := coverTimer("team@lists.test", start, start)
	count := map[string]int{}
	var waits []float64
	step := func(now time.Time) (dummies []*queue.Meta, next *queue.Meta) {
		j := &Job{Site: s.Site, Entry: &queue.Entry{Name: timer.ID, Meta: timer}, Meta: timer.Clone(), Log: log, Now: now}
		if err := c.Process(context.Background(), j); err != nil {
			t.Fatal(err)
		}
		for _, o := range j.outs {
			switch o.queue {
			case queue.Out:
				dummies = append(dummies, o.meta)
			case queue.Cover:
				if next != nil {
					t.Fatal("two timers staged")
				}
				next = o.meta
			default:
				t.Fatalf("staged for %s", o.queue)
			}
		}
		if next == nil {
			t.Fatal("no next timer")
		}
		return dummies, next
	}
	due := func(m *queue.Meta) time.Time {
		nanos, _, _ := strings.Cut(m.ID, "+")
		n, _ := strconv.ParseInt(nanos, 10, 64)
		return time.Unix(0, n).UTC()
	}
	now := start
	for now.Before(end) {
		dummies, next := step(now)
		for _, d := range dummies {
			if len(d.Recipients) != 1 || d.Kind != "post" || d.Protection() != queue.CarriesPlaintext {
				t.Fatalf("dummy metadata %+v", d)
			}
			count[d.Recipients[0]]++
		}
		at := due(next)
		waits = append(waits, at.Sub(now).Hours())
		now, timer = at, next
	}
	if count["cat@subs.test"] != 0 || len(count) != 2 {
		t.Fatalf("dummies per subscriber: %v", count)
	}
	// Poisson with mean 500 per subscriber (2 a day for 250 days): a bound
	// of five standard deviations.
	for addr, n := range count {
		if math.Abs(float64(n)-500) > 5*math.Sqrt(500) {
			t.Errorf("%s received %d dummies in 250 days, want about 500", addr, n)
		}
	}
	// Waits: exponential with mean 6 hours (4 dummies a day in all), so
	// their mean is 6 h and about 1/e of them are longer than the mean.
	var sum float64
	longer := 0
	for _, w := range waits {
		sum += w
		if w > 6 {
			longer++
		}
	}
	mean := sum / float64(len(waits))
	if math.Abs(mean-6) > 5*6/math.Sqrt(float64(len(waits))) {
		t.Errorf("mean wait %.2f h, want about 6", mean)
	}
	if frac := float64(longer) / float64(len(waits)); math.Abs(frac-1/math.E) > 0.05 {
		t.Errorf("%.3f of the waits exceed the mean, want about %.3f", frac, 1/math.E)
	}
	// A restart after three days down: the timer, long due, makes one dummy
	// and a next timer after the restart.
	late := now.Add(72 * time.Hour)
	dummies, next := step(late)
	if len(dummies) != 1 || !due(next).After(late) {
		t.Errorf("late timer made %d dummies, next due %v (restart at %v)", len(dummies), due(next), late)
	}
}

// TestCoverOffStops: a timer of a list that turned cover_traffic off makes
// no dummy and no next timer.
func TestCoverOffStops(t *testing.T) {
	testdirs.Slow(t, "drives the runners through many mails")
	s, _ := coverSite(t, "2")
	// A timer due an hour ago, queued as Schedule queues one, but not
	// drawn: a drawn wait from a fixed past could fall after now, leaving
	// the timer pending for a reason this test is not about.
	now := time.Now()
	if _, err := s.Queue(queue.Cover).EnqueueAt(coverTimer("team@lists.test", now.Add(-time.Hour), now.Add(-time.Hour)), strings.NewReader(""), 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	s.setList(t, map[string]string{"cover_traffic": "no"})
	s.drain(t)
	if f := s.files(t, queue.Cover); len(f) != 0 {
		t.Errorf("cover queue holds %v", f)
	}
	if f := s.files(t, queue.Out); len(f) != 0 {
		t.Errorf("out queue holds %v", f)
	}
	for _, a := range []string{"ann@subs.test", "bob@subs.test"} {
		if n := len(s.mailbox(t, a)); n != 0 {
			t.Errorf("%s received %d messages", a, n)
		}
	}
}

// shape is how an OpenPGP message of one key packet and one encrypted packet
// is framed.
type shape struct {
	key      int    // the key packet's body length (an RSA MPI may be an octet short)
	partials string // the encrypted packet's partial lengths, as powers of two
	last     int    // the length of its last part
}

// encryptedShape reads the framing of an armored OpenPGP message.
func encryptedShape(t *testing.T, armored []byte) shape {
	t.Helper()
	blk, err := armor.Decode(bytes.NewReader(armored))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(blk.Body)
	if err != nil {
		t.Fatal(err)
	}
	var sh shape
	switch {
	case len(b) > 3 && b[0] == 0xc1 && b[1] >= 192 && b[1] < 224:
		sh.key, b = (int(b[1])-192)<<8+int(b[2])+192, b[3:]
	case len(b) > 2 && b[0] == 0xc1 && b[1] < 192:
		sh.key, b = int(b[1]), b[2:]
	case len(b) > 3 && b[0] == 0x85:
		sh.key, b = int(b[1])<<8|int(b[2]), b[3:]
	case len(b) > 5 && b[0] == 0x86:
		sh.key, b = int(b[1])<<24|int(b[2])<<16|int(b[3])<<8|int(b[4]), b[5:]
	default:
		t.Fatalf("no key packet first: %x", b[:min(len(b), 6)])
	}
	if len(b) < sh.key+2 || b[sh.key] != 0xd2 {
		t.Fatalf("no encrypted packet after the key packet")
	}
	b = b[sh.key+1:]
	for {
		l := int(b[0])
		switch {
		case l >= 224 && l < 255:
			sh.partials += fmt.Sprintf(" 2^%d", l&0x1f)
			if len(b) < 1+1<<(l&0x1f) {
				t.Fatal("truncated encrypted packet")
			}
			b = b[1+1<<(l&0x1f):]
			continue
		case l < 192:
			sh.last = l
		case l < 224:
			sh.last = (l-192)<<8 + int(b[1]) + 192
		default:
			sh.last = int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4])
		}
		return sh
	}
}
