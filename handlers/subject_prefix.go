package handlers

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"cloister/mailmsg"
)

// SubjectPrefix puts the list's subject_prefix before the Subject, once,
// and after it subject_prefix_in for posts that are not validly signed.
// The Subject is decoded (RFC 2047) first; every copy of the prefix already
// in it is removed and any run of reply markers (Re:, RE:, Aw:, Sv:, ...) at
// its start becomes one "Re: " put before the prefix, so that
// "Re: [x] Re: [x] hi" becomes "Re: [x] hi" and mail clients that strip a
// leading "Re:" still thread the reply with the original. A subject that is
// not ASCII after the change is written back RFC 2047 encoded in UTF-8.
type SubjectPrefix struct{}

// Name implements Handler.
func (SubjectPrefix) Name() string { return "subject-prefix" }

// Description implements Handler.
func (SubjectPrefix) Description() string {
	return "put the subject_prefix before the Subject once, without stacking"
}

// replyMarker matches one reply marker at the start of a subject, as the
// common clients write it in English, German, Scandinavian and Dutch, with an
// optional count ("Re[2]:").
var replyMarker = regexp.MustCompile(`(?i)^(re|aw|sv|vs|antw|ref)(\[\d+\]|\(\d+\))?\s*:\s*`)

// Process implements Handler.
func (h SubjectPrefix) Process(ctx *Context) error {
	prefix, in := ctx.settings().SubjectPrefix, ctx.settings().SubjectPrefixIn
	if strings.TrimSpace(prefix) == "" && strings.TrimSpace(in) == "" {
		return nil
	}
	raw := ctx.Msg.Get("Subject")
	subject := mailmsg.DecodeHeader(raw)
	if tag := strings.TrimSpace(in); tag != "" {
		// subject_prefix_in marks posts that are not validly signed, and is
		// taken off the Subject of those that are (a signed reply).
		if ctx.Meta != nil && ctx.Meta.Verdict == "good" {
			subject = strings.Join(strings.Fields(removeFold(strings.ToValidUTF8(subject, "\uFFFD"), tag)), " ")
		} else {
			subject = PrefixSubject(subject, in)
		}
	}
	if strings.TrimSpace(prefix) != "" {
		subject = PrefixSubject(subject, prefix)
	}
	if subject == raw {
		return nil
	}
	// One line of text, RFC 2047 encoded when not ASCII: a decoded CR or
	// LF cannot become a line break.
	subject = mailmsg.EncodeText(subject)
	if subject == raw {
		return nil
	}
	ctx.Msg.Set("Subject", subject)
	return nil
}

// PrefixSubject returns the decoded subject with prefix put before it once
// (see SubjectPrefix). Invalid UTF-8 is replaced by U+FFFD.
func PrefixSubject(subject, prefix string) string {
	subject = strings.ToValidUTF8(subject, "\uFFFD")
	prefix = strings.ToValidUTF8(prefix, "\uFFFD")
	tag := strings.TrimSpace(prefix)
	s := strings.Join(strings.Fields(subject), " ")
	reply := false
	// Remove every copy of the prefix, wherever it sits.
	if tag != "" {
		s = removeFold(s, tag)
	}
	for {
		s = strings.TrimLeft(s, " \t")
		loc := replyMarker.FindStringIndex(s)
		if loc == nil {
			break
		}
		reply = true
		s = s[loc[1]:]
	}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		s = "(no subject)"
	}
	out := prefix
	if !strings.HasSuffix(out, " ") {
		out += " "
	}
	out += s
	if reply {
		out = "Re: " + out
	}
	return out
}

// removeFold removes every case-insensitive occurrence of tag from s.
func removeFold(s, tag string) string {
	ls, lt := strings.ToLower(s), strings.ToLower(tag)
	if len(ls) != len(s) || len(lt) != len(tag) || !utf8.ValidString(s) {
		// Case mapping changed byte lengths: fall back to exact matches.
		return strings.ReplaceAll(s, tag, " ")
	}
	var b strings.Builder
	for {
		i := strings.Index(ls, lt)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteByte(' ')
		s, ls = s[i+len(tag):], ls[i+len(tag):]
	}
}
