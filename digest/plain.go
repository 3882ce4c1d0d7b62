package digest

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // charsets of the plain digest's text

	"cloister/lists"
	"cloister/mailmsg"
	"cloister/notices"
)

// RFC 1153 separators.
var (
	rfc1153Head = strings.Repeat("-", 70)
	rfc1153Sep  = strings.Repeat("-", 30)
)

// plainDigest is an RFC 1153 digest: one text/plain message holding each
// post's main header fields and text, its entity written by notices'
// renderer.
func plainDigest(list *lists.List, name string, st State, posts [][]byte, now time.Time) []byte {
	subject := fmt.Sprintf("%s Digest V%d #%d", name, st.Volume, st.Issue)
	var b bytes.Buffer
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
	return append(header(list, subject, now), notices.Entity(b.String(), nil)...)
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
			b, _ := io.ReadAll(io.LimitReader(e.Body, maxText))
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
