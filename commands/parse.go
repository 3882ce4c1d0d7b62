package commands

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
)

// Bounds of the parser: a command mail of any size gives a reply of bounded
// size (security invariant 6).
const (
	// MaxCommands is how many command lines of one mail are carried out;
	// later lines are counted and ignored.
	MaxCommands = 20
	// MaxLineLen is how much of a line is kept (and echoed).
	MaxLineLen = 300
	// MaxTextBytes is how much of the text part is read.
	MaxTextBytes = 1 << 20
	// MaxArgs bounds the words of one line.
	MaxArgs  = 8
	maxDepth = 8
	maxParts = 100
)

// Line is one command line found in a command mail.
type Line struct {
	// Text is the line as written, trimmed and clipped to MaxLineLen.
	Text string
	// Word is the command word, lower-cased.
	Word string
	// Args are the words after it.
	Args []string
	// Subject is set for a command found in the Subject line; such commands
	// are always authenticated as smtp.
	Subject bool
	// Rest is the text that follows a command that takes it (sign): every
	// line after it up to the mail's signature separator, as written. No
	// command is read from it.
	Rest []string
}

// takesRest names the commands that take the rest of the text as their
// input (sign, by its name or alias).
func takesRest(word string) bool {
	c, ok := Lookup(word)
	return ok && c.Name() == "sign"
}

// Parsed is what a command mail holds.
type Parsed struct {
	Lines []Line
	// ListName is the value of an "x-list-name LIST" line of the body, which
	// a signed command mail must carry (it names the list inside the signed
	// content, so the mail cannot be replayed to another list).
	ListName string
	// Ignored counts the non-blank lines after MaxCommands that were not
	// carried out.
	Ignored int
}

// Parse reads the commands of a command mail: a command in the Subject line
// (when its first word is a command), then each line of the first
// text/plain part, also inside multipart/alternative, multipart/mixed and
// the signed part of multipart/signed, and inside a clear-signed OpenPGP
// block. Reading stops at a line "end" (or "stop", "quit", "thanks"), at a
// signature delimiter "-- ", at the first quoted ">" line and at a pasted
// OpenPGP block (a key for "key change"). Lines starting with "#" are
// comments.
func Parse(msg []byte) (*Parsed, error) {
	m, err := mailmsg.Parse(msg)
	if err != nil {
		return nil, fmt.Errorf("command mail header: %w", err)
	}
	p := &Parsed{}
	if l, ok := subjectLine(mailmsg.DecodeHeader(m.Get("Subject"))); ok {
		p.Lines = append(p.Lines, l)
	}
	text, err := TextBody(msg)
	if err != nil {
		return p, err
	}
	p.addBody(text)
	return p, nil
}

// subjectLine returns the command in a Subject, after any Re:/Fwd: prefixes.
func subjectLine(s string) (Line, bool) {
	s = strings.TrimSpace(s)
	for {
		low := strings.ToLower(s)
		cut := false
		for _, pre := range []string{"re:", "fwd:", "fw:", "aw:", "sv:"} {
			if strings.HasPrefix(low, pre) {
				s = strings.TrimSpace(s[len(pre):])
				cut = true
				break
			}
		}
		if !cut {
			break
		}
	}
	l := splitLine(s)
	if l.Word == "" {
		return l, false
	}
	if _, ok := Lookup(l.Word); !ok {
		return l, false
	}
	l.Subject = true
	return l, true
}

// splitLine splits a line into its command word and arguments.
func splitLine(s string) Line {
	s = clipLine(strings.TrimSpace(s))
	f := strings.Fields(s)
	l := Line{Text: s}
	if len(f) == 0 {
		return l
	}
	l.Word = strings.ToLower(f[0])
	if len(f) > 1 {
		l.Args = f[1:min(len(f), MaxArgs+1)]
	}
	return l
}

func clipLine(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) <= MaxLineLen {
		return s
	}
	n := MaxLineLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// stopWords end the commands of a mail.
var stopWords = map[string]bool{"end": true, "stop": true, "quit": true, "thanks": true, "thank": true}

// addBody reads the lines of the text part.
func (p *Parsed) addBody(text []byte) {
	lines := strings.Split(string(text), "\n")
	lines = inlineSigned(clearSigned(lines))
	for i, raw := range lines {
		raw = strings.TrimRight(raw, "\r")
		if raw == "-- " || raw == "--" {
			return
		}
		t := strings.TrimSpace(raw)
		if t == "" {
			continue
		}
		if strings.HasPrefix(t, ">") || strings.HasPrefix(t, "-----BEGIN PGP ") {
			return // a quote, or a pasted key or message: no more commands
		}
		if strings.HasPrefix(t, "#") {
			continue // a comment
		}
		l := splitLine(t)
		if l.Word == "x-list-name" || l.Word == "x-list-name:" {
			if len(l.Args) > 0 && p.ListName == "" {
				p.ListName = strings.ToLower(l.Args[0])
			}
			continue
		}
		if stopWords[l.Word] {
			if len(p.Lines) < MaxCommands {
				p.Lines = append(p.Lines, l)
			}
			return
		}
		if len(p.Lines) >= MaxCommands {
			p.Ignored++
			continue
		}
		if takesRest(l.Word) {
			for _, r := range lines[i+1:] {
				r = strings.TrimRight(r, "\r")
				if r == "-- " {
					break
				}
				l.Rest = append(l.Rest, r)
			}
			p.Lines = append(p.Lines, l)
			return
		}
		p.Lines = append(p.Lines, l)
	}
}

// clearSigned returns the signed text of a clear-signed OpenPGP block that
// starts the text (dash-escaping undone), or lines unchanged.
func clearSigned(lines []string) []string {
	i := 0
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	if i == len(lines) || strings.TrimSpace(lines[i]) != "-----BEGIN PGP SIGNED MESSAGE-----" {
		return lines
	}
	i++
	for i < len(lines) && strings.TrimSpace(lines[i]) != "" { // armor headers (Hash: ...)
		i++
	}
	var out []string
	for _, l := range lines[i:] {
		if strings.TrimSpace(l) == "-----BEGIN PGP SIGNATURE-----" {
			break
		}
		out = append(out, strings.TrimPrefix(l, "- "))
	}
	return out
}

// ErrNoText means a command mail has no text/plain part.
var ErrNoText = errors.New("no text/plain part")

// TextBody returns the decoded content of the first text/plain part of a
// message that is not an attachment, at most MaxTextBytes of it.
func TextBody(msg []byte) ([]byte, error) {
	ent, err := rawmime.Parse(msg)
	if err != nil {
		return nil, fmt.Errorf("command mail: %w", err)
	}
	parts := 0
	b, err := findText(ent, 0, &parts)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, ErrNoText
	}
	return b, nil
}

func findText(e *rawmime.Entity, depth int, parts *int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("command mail nested deeper than %d", maxDepth)
	}
	mt, params, err := e.MediaType()
	if err != nil || mt == "" {
		mt = "text/plain"
	}
	if strings.HasPrefix(strings.ToLower(e.Fields.Get("Content-Disposition")), "attachment") {
		return nil, nil
	}
	switch {
	case mt == "text/plain":
		return decode(e)
	case strings.HasPrefix(mt, "multipart/"):
		subs, err := rawmime.SplitMultipart(e.Body, params["boundary"], maxParts)
		if err != nil && !errors.Is(err, rawmime.ErrTruncated) {
			return nil, fmt.Errorf("command mail: %w", err)
		}
		if mt == "multipart/signed" && len(subs) > 1 {
			subs = subs[:1]
		}
		for _, sb := range subs {
			*parts++
			if *parts > maxParts {
				return nil, fmt.Errorf("command mail has more than %d parts", maxParts)
			}
			se, err := rawmime.Parse(sb)
			if err != nil {
				continue
			}
			b, err := findText(se, depth+1, parts)
			if b != nil || err != nil {
				return b, err
			}
		}
	}
	return nil, nil
}

// decode undoes the transfer encoding of a text part (rawmime.Decode),
// keeping at most MaxTextBytes; an unknown encoding is taken as it is.
func decode(e *rawmime.Entity) ([]byte, error) {
	b, err := e.DecodedBody(MaxTextBytes)
	if len(b) > MaxTextBytes {
		b = b[:MaxTextBytes]
	}
	if err != nil && len(b) == 0 && !errors.Is(err, rawmime.ErrUnknownEncoding) {
		return nil, fmt.Errorf("decode command text: %w", err)
	}
	return b, nil
}

func sprintf(format string, a ...any) string {
	if len(a) == 0 {
		return format
	}
	return fmt.Sprintf(format, a...)
}
