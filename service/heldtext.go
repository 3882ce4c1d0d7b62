package service

import (
	"errors"
	"strings"

	"cloister/mailmsg/rawmime"
)

// Bounds on reading a held post's text.
const (
	maxTextDepth = 8
	maxTextParts = 64
)

// errTextFound stops the walk at the first text part.
var errTextFound = errors.New("found")

// textPart returns the decoded content of the first text/plain part of a
// message that is not an attachment, at most MaxHeldText bytes of it.
func textPart(msg []byte) ([]byte, error) {
	ent, err := rawmime.Parse(msg)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = rawmime.Walk(ent, maxTextDepth, maxTextParts, func(path []int, part *rawmime.Entity) error {
		mt, _, err := part.MediaType()
		if err != nil || mt == "" {
			mt = "text/plain"
		}
		if mt != "text/plain" || strings.HasPrefix(strings.ToLower(part.Fields.Get("Content-Disposition")), "attachment") {
			return nil
		}
		out, _ = part.DecodedBody(MaxHeldText)
		if len(out) > MaxHeldText {
			out = out[:MaxHeldText]
		}
		return errTextFound
	})
	if err != nil && !errors.Is(err, errTextFound) {
		return out, err
	}
	return out, nil
}
