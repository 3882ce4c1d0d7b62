package digest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"cloister/internal/listaddr"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/queue"
)

// mimeDigest is a multipart/mixed message: a text part with the table of
// contents, then a multipart/digest of the posts as message/rfc822 parts.
func mimeDigest(list *lists.List, name string, st State, posts [][]byte, now time.Time) []byte {
	subject := fmt.Sprintf("%s Digest, Vol %d, Issue %d", name, st.Volume, st.Issue)
	outer, inner := boundary(posts, "mixed"), boundary(posts, "digest")
	var b bytes.Buffer
	b.Write(header(list, subject, now))
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

// boundary returns a boundary that occurs in no post.
func boundary(posts [][]byte, kind string) string {
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
