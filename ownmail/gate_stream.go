package ownmail

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"slices"
	"strings"

	"cloister/mailmsg/rawmime"
	"cloister/queue"
)

// CheckStream is Check of a copy read from r, for a copy too large to be
// joined in memory (a large post's copy is made of parts, its armor
// written as it is sent): the copy is read a line at a time, its header,
// its PGP/MIME structure and its armor checked as they come, and held no
// more than a few lines at a time (an S/MIME envelope is decoded whole, as
// its RecipientInfos are read from the DER). It reads r to its end when it
// passes the copy, and passes and refuses what Check passes and refuses
// (TestCheckStreamAsCheck holds the two to each other).
func (g *Gate) CheckStream(m *queue.Meta, r io.Reader, rcpts []string, notice bool) error {
	return g.judge(m, rcpts, notice, func() error { return g.readEncryptedOnlyTo(r, rcpts) })
}

// maxStreamLine bounds a line of a copy read by CheckStream: the copies
// the distributor makes have lines of 76 characters at most, and a header
// field's folded lines are each a line of their own.
const maxStreamLine = 64 << 10

// maxStreamText bounds the preamble and the version part of a PGP/MIME
// copy read by CheckStream: a fixed sentence and "Version: 1".
const maxStreamText = 4 << 10

// readEncryptedOnlyTo is encryptedOnlyTo of a copy read from r.
func (g *Gate) readEncryptedOnlyTo(r io.Reader, rcpts []string) error {
	src := &copyLines{r: bufio.NewReaderSize(r, maxStreamLine)}
	ctype, cte, err := readFields(src)
	if err != nil {
		return err
	}
	boundary, smime, err := encryptionKind(ctype, cte)
	if err != nil {
		return err
	}
	if !smime {
		ids, err := g.readPGPMIME(src, boundary)
		if err != nil {
			return err
		}
		return g.pgpAddressedTo(ids, rcpts)
	}
	buf := g.decodeBuffer(0)
	defer g.bufs.Put(buf)
	der, err := readBase64((*buf)[:0], src)
	if err != nil {
		return fmt.Errorf("S/MIME entity: %v", err)
	}
	*buf = der[:0]
	return g.smimeAddressedTo(der, rcpts)
}

// copyLines hands out the lines of a copy read from a bufio.Reader,
// without their line ends, valid until the next call (pgp.LineReader).
type copyLines struct {
	r    *bufio.Reader
	crlf bool // the line last read ended in CR LF
	eol  bool // the line last read ended in a line end (the last may not)
}

// errLongLine is the error of a line longer than maxStreamLine.
var errLongLine = fmt.Errorf("a line longer than %d bytes", maxStreamLine)

// ReadLine returns the next line without its LF or CR LF, or io.EOF.
func (c *copyLines) ReadLine() ([]byte, error) {
	l, err := c.r.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return nil, errLongLine
	case err == io.EOF && len(l) > 0:
		c.eol, c.crlf = false, false
		return l, nil
	case err != nil:
		return nil, err
	}
	l = l[:len(l)-1]
	c.eol, c.crlf = true, len(l) > 0 && l[len(l)-1] == '\r'
	if c.crlf {
		l = l[:len(l)-1]
	}
	return l, nil
}

// readFields reads a header section from src, as topFields reads it from a
// message held whole: the Content-Type and Content-Transfer-Encoding
// fields (unfolded), each at most once.
func readFields(src *copyLines) (ctype, cte string, err error) {
	var h headerFields
	n := 0
	for {
		l, err := src.ReadLine()
		if err == io.EOF || err == nil && !src.eol {
			return "", "", errors.New("message without a body")
		}
		if err != nil {
			return "", "", err
		}
		if n += len(l) + 2; n > rawmime.MaxHeaderBytes {
			return "", "", errors.New("message without a body, or with an oversized header")
		}
		if end, err := h.line(l); end || err != nil {
			return h.ctype, h.cte, err
		}
	}
}

// readPGPMIME reads a PGP/MIME body (RFC 3156) from src as pgpMIMEPayload
// reads it held whole: a version part saying "Version: 1" and an
// application/octet-stream part, with nothing but a fixed preamble and
// whitespace around them, the delimiters on lines of their own with one
// kind of line end; it returns the key IDs of the armored message in the
// second part, read by the Gate's checker as it comes.
func (g *Gate) readPGPMIME(src *copyLines, boundary string) ([]uint64, error) {
	if boundary == "" {
		return nil, errors.New("multipart/encrypted: empty multipart boundary")
	}
	delim := "--" + boundary
	// The preamble, up to the first delimiter.
	pre, err := readUntilDelimiter(src, delim)
	if err != nil {
		return nil, err
	}
	switch strings.TrimSpace(pre) {
	case "", "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)":
	default:
		return nil, errors.New("multipart/encrypted with text in its preamble")
	}
	if !src.eol {
		return nil, errors.New("multipart/encrypted with text outside its two parts")
	}
	crlf := src.crlf // the line end of the delimiters
	// The version part.
	vt, _, err := readFields(src)
	if err != nil {
		return nil, fmt.Errorf("version part: %v", err)
	}
	if mt, _, err := mime.ParseMediaType(vt); err != nil || !strings.EqualFold(mt, "application/pgp-encrypted") {
		return nil, errors.New("multipart/encrypted without its version part")
	}
	version, err := readUntilDelimiter(src, delim)
	if err != nil {
		return nil, err
	}
	if !src.eol || src.crlf != crlf || !strings.HasSuffix(version, nlOf(crlf)) {
		return nil, errors.New("multipart/encrypted with text outside its two parts")
	}
	if strings.TrimSpace(version) != "Version: 1" {
		return nil, errors.New("version part holds more than \"Version: 1\"")
	}
	// The encrypted part, read by the checker up to the close delimiter.
	pt, _, err := readFields(src)
	if err != nil {
		return nil, fmt.Errorf("encrypted part: %v", err)
	}
	if mt, _, err := mime.ParseMediaType(pt); err != nil || !strings.EqualFold(mt, "application/octet-stream") {
		return nil, errors.New("multipart/encrypted whose second part is not application/octet-stream")
	}
	payload := &payloadLines{src: src, delim: delim, crlf: crlf}
	g.mu.Lock()
	ids, err := g.pgp.ReadKeyPacketIDs(payload)
	g.mu.Unlock()
	switch {
	case payload.err != nil:
		return nil, payload.err
	case err != nil:
		return nil, err
	case !payload.closed:
		return nil, errors.New("multipart/encrypted without its close delimiter")
	}
	// After the close delimiter, whitespace alone.
	for {
		l, err := src.ReadLine()
		if err == io.EOF {
			return ids, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.Trim(l, " \t\r")) != 0 {
			return nil, errors.New("multipart/encrypted with text outside its two parts")
		}
	}
}

// nlOf is the line end that crlf tells.
func nlOf(crlf bool) string {
	if crlf {
		return "\r\n"
	}
	return "\n"
}

// readUntilDelimiter reads the lines of src up to a line that is delim
// exactly, and returns them with their line ends (at most maxStreamText
// bytes); a line that begins with delim and is not it, the end of src and
// the close delimiter are errors.
func readUntilDelimiter(src *copyLines, delim string) (string, error) {
	var b strings.Builder
	for {
		l, err := src.ReadLine()
		if err == io.EOF {
			return "", errors.New("multipart/encrypted with fewer than two parts")
		}
		if err != nil {
			return "", err
		}
		if bytes.HasPrefix(l, []byte(delim)) {
			if string(l) == delim {
				return b.String(), nil
			}
			return "", errors.New("multipart/encrypted with text outside its two parts")
		}
		if b.Len()+len(l)+2 > maxStreamText {
			return "", errors.New("multipart/encrypted with text outside its two parts")
		}
		b.Write(l)
		if src.eol {
			b.WriteString(nlOf(src.crlf))
		}
	}
}

// payloadLines hands out the lines of a PGP/MIME copy's encrypted part, up
// to its close delimiter (pgp.LineReader); a second delimiter, a line that
// begins with the delimiter and is neither, and the end of the copy before
// the close delimiter end it with err.
type payloadLines struct {
	src    *copyLines
	delim  string
	crlf   bool  // the delimiters' line end, which the line before the close delimiter ends in too
	closed bool  // the close delimiter was read
	err    error // why the part ended other than at its close delimiter
}

// ReadLine returns the next line of the part, or io.EOF at its close
// delimiter.
func (p *payloadLines) ReadLine() ([]byte, error) {
	if p.closed || p.err != nil {
		return nil, io.EOF
	}
	crlf, eol := p.src.crlf, p.src.eol // how the line before ended
	l, err := p.src.ReadLine()
	switch {
	case err == io.EOF:
		p.err = errors.New("multipart/encrypted without its close delimiter")
		return nil, p.err
	case err != nil:
		p.err = err
		return nil, err
	case !bytes.HasPrefix(l, []byte(p.delim)):
		return l, nil
	case string(bytes.TrimRight(l, " \t")) == p.delim+"--" && eol && crlf == p.crlf:
		p.closed = true
		return nil, io.EOF
	case string(l) == p.delim:
		p.err = errors.New("multipart/encrypted with more than two parts")
	default:
		p.err = errors.New("multipart/encrypted with text outside its two parts")
	}
	return nil, p.err
}

// readBase64 appends to dst the decoding of the base64 lines read from src
// to its end, as decodeBase64 decodes them held whole: spaces, tabs and
// line ends anywhere, padding only at the end, nothing but base64
// characters.
func readBase64(dst []byte, src *copyLines) ([]byte, error) {
	var quantum [4]byte
	q := 0
	padded := false
	for {
		l, err := src.ReadLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		for len(l) > 0 {
			// The run of characters up to the next space, tab or CR.
			run := l
			if i := bytes.IndexAny(l, " \t\r"); i >= 0 {
				run, l = l[:i], l[i+1:]
			} else {
				l = nil
			}
			if len(run) > 0 && padded {
				return nil, errors.New("base64 after its padding")
			}
			// Fill the pending quantum, then decode whole quanta in place.
			for q > 0 && q < 4 && len(run) > 0 {
				quantum[q], run, q = run[0], run[1:], q+1
			}
			if q == 4 {
				var err error
				if dst, padded, err = appendBase64(dst, quantum[:]); err != nil {
					return nil, err
				}
				q = 0
			}
			whole := len(run) / 4 * 4
			if whole > 0 {
				if padded {
					return nil, errors.New("base64 after its padding")
				}
				var err error
				if dst, padded, err = appendBase64(dst, run[:whole]); err != nil {
					return nil, err
				}
			}
			if rest := run[whole:]; len(rest) > 0 {
				if padded {
					return nil, errors.New("base64 after its padding")
				}
				q = copy(quantum[:], rest)
			}
		}
	}
	if q != 0 {
		return nil, errors.New("base64 of a length that is not a multiple of four")
	}
	return dst, nil
}

// appendBase64 appends the decoding of whole base64 quanta to dst, and
// tells whether they ended in padding (after which nothing may follow).
func appendBase64(dst, text []byte) ([]byte, bool, error) {
	n, need := len(dst), base64.StdEncoding.DecodedLen(len(text))
	dst = slices.Grow(dst, need)
	m, err := base64.StdEncoding.Decode(dst[n:n+need], text)
	if err != nil {
		return nil, false, err
	}
	return dst[:n+m], text[len(text)-1] == '=', nil
}
