package runners

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // charsets of the plain digest's text

	"cloister/internal/decision"
	"cloister/internal/listaddr"
	"cloister/internal/safeio"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/notices"
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
// first. Waiting posts are kept under STATE/digest/LIST/, sealed with the
// queue key when they hold plaintext of an encrypted post. A digest is a
// MIME digest (RFC 2046 multipart/digest) or an RFC 1153 plain text digest
// (digest_format), handed to the outgoing runner as a post: for a list
// with encryption it is signed and encrypted like any post, and a digest
// holding a post that arrived encrypted goes out encrypted only. Run one
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

// Bounds of a digest.
const (
	kindDigestTimer = "digest-timer"
	maxDigestPosts  = 500     // a digest is sent once this many posts wait
	maxDigestText   = 1 << 20 // text read from one post for a plain digest
)

// pendingPost is a post waiting for the next digest.
type pendingPost struct {
	id, path string
	size     int64
	at       time.Time
	enc      string // how the post arrived encrypted; "" in clear
}

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
	dir := filepath.Join(j.Site.Config.StateDir, "digest", list.Address)
	if j.Meta.Kind != kindDigestTimer {
		body, err := j.Body()
		if err != nil {
			return err
		}
		if err := addPending(j.Site, dir, j.Meta, body); err != nil {
			return err
		}
	}
	posts, err := pendingPosts(dir)
	if err != nil || len(posts) == 0 {
		return err
	}
	if len(rcpts) == 0 { // nobody takes digests any more
		j.AfterFinish(func() { removePending(posts) })
		return nil
	}
	due, at := digestDue(list.Settings, posts, j.Now)
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

// digestDue says whether the waiting posts make a digest now, and when the
// oldest of them makes one at the latest.
func digestDue(st lists.Settings, posts []pendingPost, now time.Time) (bool, time.Time) {
	var total int64
	oldest := posts[0].at
	for _, p := range posts {
		total += p.size
		if p.at.Before(oldest) {
			oldest = p.at
		}
	}
	at := oldest.Add(time.Duration(st.DigestPeriodHours) * time.Hour)
	return total >= int64(st.DigestSizeKB)*1024 || len(posts) >= maxDigestPosts || !now.Before(at), at
}

// addPending stores a post for the next digest, sealed when it holds the
// plaintext of an encrypted post.
func addPending(s *site.Site, dir string, m *queue.Meta, body []byte) error {
	if strings.ContainsAny(m.ID, "/\\\x00") || strings.HasPrefix(m.ID, ".") || m.ID == "" {
		return Permanent("entry id %q is not a plain name", m.ID)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create digest dir: %w", err)
	}
	name := m.ID + ".plain"
	if m.ArrivedEncrypted() {
		k, err := s.QueueKey()
		if err != nil {
			return fmt.Errorf("seal post for the digest: %w", err)
		}
		body = k.Seal(body, []byte(m.ID))
		name = m.ID + ".sealed-" + safeToken(m.Encryption)
	}
	return safeio.WriteFunc(filepath.Join(dir, name), 0o640, func(w io.Writer) error {
		_, err := w.Write(body)
		return err
	})
}

// safeToken keeps the letters, digits and hyphens of s.
func safeToken(s string) string {
	s = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, strings.ToLower(s))
	if s == "" {
		return "encrypted"
	}
	return s
}

// pendingPosts lists the posts waiting in dir, oldest first.
func pendingPosts(dir string) ([]pendingPost, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read digest dir: %w", err)
	}
	var out []pendingPost
	for _, e := range ents {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := pendingPost{path: filepath.Join(dir, e.Name())}
		switch {
		case strings.HasSuffix(e.Name(), ".plain"):
			p.id = strings.TrimSuffix(e.Name(), ".plain")
		case strings.Contains(e.Name(), ".sealed-"):
			i := strings.LastIndex(e.Name(), ".sealed-")
			p.id, p.enc = e.Name()[:i], e.Name()[i+len(".sealed-"):]
		default:
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue
		}
		p.size, p.at = fi.Size(), fi.ModTime()
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

func removePending(posts []pendingPost) {
	for _, p := range posts {
		os.Remove(p.path)
	}
}

// digestState numbers a list's digests: a new volume each calendar year.
type digestState struct {
	Volume int `json:"volume"`
	Issue  int `json:"issue"`
	Year   int `json:"year"`
}

func readDigestState(dir string, now time.Time) digestState {
	st := digestState{Volume: 1}
	if b, err := os.ReadFile(filepath.Join(dir, ".state.json")); err == nil {
		json.Unmarshal(b, &st)
	}
	if st.Volume < 1 {
		st.Volume = 1
	}
	if st.Year != 0 && st.Year != now.Year() {
		st.Volume++
		st.Issue = 0
	}
	st.Year = now.Year()
	st.Issue++
	return st
}

// sendDigest builds the digest of the waiting posts and hands it to the
// outgoing queue; the posts are removed and the issue number kept once the
// hand-over is durable.
func sendDigest(j *Job, list *lists.List, rcpts []string, dir string, posts []pendingPost) error {
	var bodies [][]byte
	enc := ""
	h := sha256.New()
	for _, p := range posts {
		b, err := os.ReadFile(p.path)
		if err != nil {
			return fmt.Errorf("read post for the digest: %w", err)
		}
		if p.enc != "" {
			k, err := j.Site.QueueKey()
			if err != nil {
				return err
			}
			if b, err = k.Open(b, []byte(p.id)); err != nil {
				return fmt.Errorf("open sealed post %s for the digest: %w", p.id, err)
			}
			if enc == "" {
				enc = p.enc
			}
		}
		bodies = append(bodies, b)
		h.Write([]byte(p.id + "\x00"))
	}
	st := readDigestState(dir, j.Now)
	msg := buildDigest(list, st, bodies, j.Now)
	m := &queue.Meta{
		ID:         queue.NewID(posts[0].at, hex.EncodeToString(h.Sum(nil)[:16])),
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
	m.Lineage = &queue.Lineage{ID: posts[0].id}
	if enc != "" {
		// Distributed encrypted only, sealed in the queue.
		m.Encryption, m.Carries, m.Lineage.Encrypted = enc, queue.CarriesPlaintext, true
	}
	m.AddStage("digest", fmt.Sprintf("volume %d issue %d, %d posts", st.Volume, st.Issue, len(posts)))
	j.Send(queue.Out, m, msg)
	j.AfterFinish(func() {
		removePending(posts)
		b, _ := json.Marshal(st)
		safeio.WriteFunc(filepath.Join(dir, ".state.json"), 0o640, func(w io.Writer) error {
			_, err := w.Write(b)
			return err
		})
	})
	j.Log.Info("decision", "decision", decision.Digest, "volume", st.Volume, "issue", st.Issue, "posts", len(posts),
		"recipients", len(rcpts), "format", list.Settings.DigestFormat, "encrypted", enc != "")
	return nil
}

// digestHeader is the header of a digest message.
func digestHeader(list *lists.List, subject string, now time.Time) string {
	b := mailmsg.NewHeaderWriter("\n")
	b.Address("From", listaddr.Address(list.Address, queue.SubRequest))
	b.Address("To", list.Address)
	b.Address("Reply-To", list.Address)
	b.Text("Subject", subject)
	b.Field("Date", now.UTC().Format(time.RFC1123Z))
	b.MsgID("Message-ID", notices.MessageID(list.Address))
	b.Field("Precedence", "list")
	b.Field("X-Loop", list.Address)
	b.Field("List-Id", "<"+strings.Replace(list.Address, "@", ".", 1)+">")
	b.Field("List-Post", "<mailto:"+list.Address+">")
	b.Field("List-Unsubscribe", "<mailto:"+listaddr.Address(list.Address, queue.SubLeave)+">")
	b.Field("MIME-Version", "1.0")
	return b.String()
}

// topic is one line of a digest's table of contents.
type topic struct{ subject, from string }

func topicOf(post []byte) topic {
	head := post
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		head = head[:i+1]
	}
	m, err := mailmsg.Parse(head)
	if err != nil {
		return topic{"(unreadable)", ""}
	}
	t := topic{subject: mailmsg.Clip(mailmsg.CleanValue(mailmsg.DecodeHeader(m.Get("Subject"))), 120)}
	if t.subject == "" {
		t.subject = "(no subject)"
	}
	if a, err := mail.ParseAddress(mailmsg.DecodeHeader(m.Get("From"))); err == nil {
		t.from = a.Name
		if t.from == "" {
			t.from = a.Address
		}
	}
	t.from = mailmsg.Clip(mailmsg.CleanValue(t.from), 60)
	return t
}

// lf turns CRLF line endings into LF and ends the text with one.
func lf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return b
}

// buildDigest renders a digest of posts in the list's digest_format.
func buildDigest(list *lists.List, st digestState, posts [][]byte, now time.Time) []byte {
	name := list.LocalPart()
	if list.Settings.DigestFormat == "plain" {
		return plainDigest(list, name, st, posts, now)
	}
	return mimeDigest(list, name, st, posts, now)
}

// mimeDigest is a multipart/mixed message: a text part with the table of
// contents, then a multipart/digest of the posts as message/rfc822 parts.
func mimeDigest(list *lists.List, name string, st digestState, posts [][]byte, now time.Time) []byte {
	subject := fmt.Sprintf("%s Digest, Vol %d, Issue %d", name, st.Volume, st.Issue)
	outer, inner := digestBoundary(posts, "mixed"), digestBoundary(posts, "digest")
	var b bytes.Buffer
	b.WriteString(digestHeader(list, subject, now))
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n", outer)
	ph := mailmsg.NewHeaderWriter("\n")
	ph.Field("Content-Type", "text/plain; charset=utf-8")
	ph.Field("Content-Transfer-Encoding", "8bit")
	ph.Text("Content-Description", subject)
	fmt.Fprintf(&b, "--%s\n%s\n", outer, ph.String())
	b.WriteString(contentsText(list, posts))
	fmt.Fprintf(&b, "\n--%s\nContent-Type: multipart/digest; boundary=\"%s\"\n\n", outer, inner)
	for _, p := range posts {
		fmt.Fprintf(&b, "--%s\n\n", inner)
		b.Write(lf(p))
		b.WriteString("\n") // the line break before a delimiter belongs to it
	}
	fmt.Fprintf(&b, "--%s--\n\n--%s--\n", inner, outer)
	return b.Bytes()
}

// contentsText is the table of contents of a MIME digest.
func contentsText(list *lists.List, posts [][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Send %s mailing list submissions to\n\t%s\n\n", list.LocalPart(), list.Address)
	fmt.Fprintf(&b, "To unsubscribe or change your delivery, send a message with \"help\"\nin the body to\n\t%s\n\n",
		listaddr.Address(list.Address, queue.SubRequest))
	b.WriteString("When replying, please edit your Subject line so it is more specific\nthan \"Re: Contents of ... digest...\"\n\n")
	b.WriteString("Today's Topics:\n\n")
	for i, p := range posts {
		t := topicOf(p)
		if t.from != "" {
			fmt.Fprintf(&b, "  %3d. %s (%s)\n", i+1, t.subject, t.from)
		} else {
			fmt.Fprintf(&b, "  %3d. %s\n", i+1, t.subject)
		}
	}
	return b.String()
}

// digestBoundary returns a boundary that occurs in no post.
func digestBoundary(posts [][]byte, kind string) string {
	for {
		rb := make([]byte, 12)
		rand.Read(rb)
		bd := "=_cloister_" + kind + "_" + hex.EncodeToString(rb)
		clash := false
		for _, p := range posts {
			if bytes.Contains(p, []byte(bd)) {
				clash = true
				break
			}
		}
		if !clash {
			return bd
		}
	}
}

// RFC 1153 separators.
var (
	rfc1153Head = strings.Repeat("-", 70)
	rfc1153Sep  = strings.Repeat("-", 30)
)

// plainDigest is an RFC 1153 digest: one text/plain message holding each
// post's main header fields and text.
func plainDigest(list *lists.List, name string, st digestState, posts [][]byte, now time.Time) []byte {
	subject := fmt.Sprintf("%s Digest V%d #%d", name, st.Volume, st.Issue)
	var b bytes.Buffer
	b.WriteString(digestHeader(list, subject, now))
	b.WriteString("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
	fmt.Fprintf(&b, "%s Digest\t\t%s\t\tVolume %d : Issue %d\n\n", name, now.UTC().Format("Mon, 2 Jan 2006"), st.Volume, st.Issue)
	b.WriteString("Today's Topics:\n\n")
	for _, p := range posts {
		t := topicOf(p)
		if t.from != "" {
			fmt.Fprintf(&b, "  %s (%s)\n", t.subject, t.from)
		} else {
			fmt.Fprintf(&b, "  %s\n", t.subject)
		}
	}
	fmt.Fprintf(&b, "\n%s\n\n", rfc1153Head)
	for i, p := range posts {
		if i > 0 {
			fmt.Fprintf(&b, "%s\n\n", rfc1153Sep)
		}
		head, text := plainPost(p)
		b.WriteString(head)
		b.WriteString("\n")
		for _, line := range strings.SplitAfter(text, "\n") {
			if strings.TrimRight(line, "\n") == rfc1153Sep { // RFC 1153: a body line may not be the separator
				line = " " + line
			}
			b.WriteString(line)
		}
		if !strings.HasSuffix(text, "\n") {
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	end := fmt.Sprintf("End of %s Digest V%d #%d", name, st.Volume, st.Issue)
	fmt.Fprintf(&b, "%s\n\n%s\n%s\n", rfc1153Sep, end, strings.Repeat("*", len(end)))
	return b.Bytes()
}

// plainPost returns a post's Date, From, To, Cc, Subject and Message-ID
// fields (decoded) and its text: the first text/plain part, decoded, with
// a note for every other part left out.
func plainPost(post []byte) (head, text string) {
	e, err := message.Read(bytes.NewReader(post))
	if e == nil {
		return "", "[this post could not be read: " + fmt.Sprint(err) + "]\n"
	}
	var hb strings.Builder
	for _, f := range []string{"Date", "From", "To", "Cc", "Subject", "Message-ID"} {
		if v := e.Header.Get(f); v != "" {
			fmt.Fprintf(&hb, "%s: %s\n", f, mailmsg.Clip(mailmsg.CleanValue(mailmsg.DecodeHeader(v)), 900))
		}
	}
	var tb strings.Builder
	var notes []string
	found := false
	parts := 0
	var walk func(e *message.Entity, depth int)
	walk = func(e *message.Entity, depth int) {
		parts++
		if parts > 100 || depth > 8 {
			return
		}
		mt, params, _ := e.Header.ContentType()
		if mr := e.MultipartReader(); mr != nil {
			for {
				p, err := mr.NextPart()
				if err != nil {
					break
				}
				walk(p, depth+1)
			}
			return
		}
		switch {
		case (mt == "text/plain" || mt == "") && !found:
			b, _ := io.ReadAll(io.LimitReader(e.Body, maxDigestText))
			tb.Write(lf(b))
			found = true
		case mt == "application/pgp-signature" || mt == "application/pkcs7-signature" || mt == "application/x-pkcs7-signature":
		default:
			n := params["name"]
			if _, p, err := e.Header.ContentDisposition(); err == nil && p["filename"] != "" {
				n = p["filename"]
			}
			note := "[a " + mt + " part"
			if n != "" {
				note += " (" + mailmsg.Clip(n, 80) + ")"
			}
			notes = append(notes, note+" is not included in the plain digest]")
		}
	}
	walk(e, 0)
	text = tb.String()
	if !found {
		text = "[this post has no plain text part]\n"
	}
	for _, n := range notes {
		text += n + "\n"
	}
	return hb.String(), text
}
