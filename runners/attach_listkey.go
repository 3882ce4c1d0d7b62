package runners

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/resend"
)

// attachLine is the keyword line that asks the list to attach its key to a
// post (Schleuder's x-attach-listkey).
var attachLine = regexp.MustCompile(`(?i)^(?:x-)?attach-listkey:?[ \t]*$`)

// takeAttachListkey removes an attach-listkey line from the top of the
// post's text (after any resend lines, which are already gone) and reports
// whether it was there. It reads the text as resend.Take does; for a signed
// post the author's signature is then unwrapped (the text changed; the
// list signs what it sends).
func takeAttachListkey(msg *mailmsg.Message) bool {
	head, text, ok := resend.PostText(msg)
	if !ok {
		return false
	}
	line, rest := resend.CutLine(resend.SkipBlankLines(text))
	if len(line) == 0 || !attachLine.Match(bytes.TrimRight(line, "\r\n")) {
		return false
	}
	resend.SetPostText(msg, head, rest)
	return true
}

// attachListKey makes the post a multipart/mixed of its content and the
// list's public OpenPGP key. A list without an OpenPGP key leaves the post
// as it is.
func attachListKey(s *site.Site, list *lists.List, msg *mailmsg.Message) (bool, error) {
	if s.Keys == nil {
		return false, nil
	}
	k, err := s.Keys.ListPGP(list.Address)
	if isNoListKey(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var key bytes.Buffer
	w, err := armor.Encode(&key, "PGP PUBLIC KEY BLOCK", nil)
	if err == nil {
		err = k.Serialize(w)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return false, fmt.Errorf("export the key of %s: %w", list.Address, err)
	}
	nl := msg.NL
	rb := make([]byte, 12)
	rand.Read(rb)
	boundary := "=_cloister_key_" + hex.EncodeToString(rb)
	var inner []*mailmsg.Field
	var outer []*mailmsg.Field
	for _, f := range msg.Fields {
		if strings.HasPrefix(strings.ToLower(f.Name), "content-") {
			inner = append(inner, f)
		} else {
			outer = append(outer, f)
		}
	}
	var b bytes.Buffer
	b.WriteString("--" + boundary + nl)
	if len(inner) == 0 {
		b.WriteString("Content-Type: text/plain; charset=us-ascii" + nl)
	}
	for _, f := range inner {
		b.Write(fieldBytes(f, nl))
	}
	b.WriteString(nl)
	b.Write(msg.Body)
	if len(msg.Body) > 0 && !bytes.HasSuffix(msg.Body, []byte("\n")) {
		b.WriteString(nl)
	}
	name := list.LocalPart() + ".asc"
	b.WriteString(nl + "--" + boundary + nl)
	b.WriteString(`Content-Type: application/pgp-keys; name="` + name + `"` + nl)
	b.WriteString(`Content-Disposition: attachment; filename="` + name + `"` + nl + nl)
	b.Write(bytes.ReplaceAll(key.Bytes(), []byte("\n"), []byte(nl)))
	b.WriteString(nl + nl + "--" + boundary + "--" + nl)
	msg.Fields = outer
	if !msg.Has("MIME-Version") {
		msg.Add("MIME-Version", "1.0")
	}
	msg.Add("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	msg.Body = b.Bytes()
	return true, nil
}

func isNoListKey(err error) bool { return errors.Is(err, site.ErrNoListKey) }

func fieldBytes(f *mailmsg.Field, nl string) []byte {
	if f.Raw != nil {
		return f.Raw
	}
	return []byte(f.Name + ": " + f.Value() + nl)
}
