package mta

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
)

// Part is a piece of a message (a shared header block, a signed and armored
// body, one subscriber's key packet...) that keeps its wire form once it
// has been encoded: a post sent as thousands of copies that share most of
// their bytes CRLF-normalises and dot-stuffs the shared parts once, and each
// copy encodes only its own small parts. A message is the concatenation of
// its parts (see Session.SendParts); how a part is encoded depends on where
// the parts before it left off (mid-line, after a CR), so a part keeps one
// encoding per such state, made on first use. A Part is safe for concurrent
// use by several sessions; its bytes must not change once it is made.
type Part struct {
	raw []byte

	// A part made by NewWirePart: n bytes in wire form, written by stream.
	stream func(io.Writer) error
	n      int

	mu   sync.Mutex
	data [nStates]*encoded // DATA form, by the state the part starts in
	bdat [2]*encoded       // BDAT form, by whether the byte before was a CR
}

// encoded is a part's wire form and the state after it.
type encoded struct {
	wire    []byte
	st      lineState // DATA form
	afterCR bool      // BDAT form
}

// NewPart returns a part holding b (LF or CRLF line endings). b is not
// copied, and when it needs no change on the wire (CRLF line ends, no line
// starting with a dot) it is written as it is: it must not change while the
// part is in use.
func NewPart(b []byte) *Part { return &Part{raw: b} }

// NewWirePart returns a part of n bytes that write writes to the
// connection when the part is sent, in whatever chunks it likes, so that a
// large shared body (a post's armored encryption) need not be held whole
// for every copy. The bytes must be in the wire form of both DATA and BDAT
// already: lines end in CRLF, no other CR or LF, no line starts with a dot,
// and the last line is ended. write is called once per transaction the part
// is sent in, and must write exactly n bytes.
func NewWirePart(n int, write func(io.Writer) error) *Part {
	return &Part{stream: write, n: n}
}

// Len is the length of the part as given (before encoding).
func (p *Part) Len() int {
	if p.stream != nil {
		return p.n
	}
	return len(p.raw)
}

// bytes returns the part as given, a wire part's written out.
func (p *Part) bytes() []byte {
	if p.stream == nil {
		return p.raw
	}
	var b bytes.Buffer
	b.Grow(p.n)
	if err := p.stream(&b); err != nil {
		return nil
	}
	return b.Bytes()
}

// span is a piece of a message's wire form: bytes, or a wire part that
// writes its own.
type span struct {
	b []byte
	p *Part
}

// dataSpans returns the DATA wire form of the concatenation of parts
// (empty parts skipped), terminating dot line included.
func dataSpans(parts []*Part) []span {
	out := make([]span, 0, len(parts)+1)
	st := stateBegin
	for _, p := range parts {
		if p.Len() == 0 {
			continue
		}
		if p.stream != nil {
			// Its own wire form; whatever came before, a line follows it.
			out = append(out, span{p: p})
			st = stateBeginLine
			continue
		}
		e := p.dataForm(st)
		out = append(out, span{b: e.wire})
		st = e.st
	}
	return append(out, span{b: dataEnd(st)})
}

// bdatSpans returns the BDAT wire form of the concatenation of parts, and
// its total length.
func bdatSpans(parts []*Part) ([]span, int) {
	out := make([]span, 0, len(parts))
	n := 0
	afterCR := false
	for _, p := range parts {
		if p.Len() == 0 {
			continue
		}
		if p.stream != nil {
			out = append(out, span{p: p})
			n += p.n
			afterCR = false
			continue
		}
		e := p.bdatForm(afterCR)
		out = append(out, span{b: e.wire})
		n += len(e.wire)
		afterCR = e.afterCR
	}
	return out, n
}

// byteSpans returns spans as bytes, wire parts written out.
func byteSpans(spans []span) [][]byte {
	out := make([][]byte, len(spans))
	for i, s := range spans {
		out[i] = s.b
		if s.p != nil {
			out[i] = s.p.bytes()
		}
	}
	return out
}

// writeSpans writes spans to w: runs of bytes in one writev each, wire
// parts by their own function.
func writeSpans(w io.Writer, spans []span) error {
	var run net.Buffers
	for _, s := range spans {
		if s.p == nil {
			run = append(run, s.b)
			continue
		}
		if len(run) > 0 {
			if _, err := run.WriteTo(w); err != nil {
				return err
			}
			run = nil
		}
		cw := &countingWriter{w: w, max: int64(s.p.n)}
		if err := s.p.stream(cw); err != nil {
			return &partError{err}
		}
		if cw.n != cw.max {
			return &partError{fmt.Errorf("message part wrote %d bytes, said %d", cw.n, cw.max)}
		}
	}
	if len(run) > 0 {
		_, err := run.WriteTo(w)
		return err
	}
	return nil
}

// partError is a wire part that failed or wrote other than its length:
// the message on the wire is not the one meant, and the connection must be
// dropped rather than the transaction ended (see Session.writeSpans).
type partError struct{ err error }

func (e *partError) Error() string { return "message part: " + e.err.Error() }
func (e *partError) Unwrap() error { return e.err }

// countingWriter counts what it passes on, and passes on no more than max
// bytes: a BDAT chunk is never longer than announced.
type countingWriter struct {
	w      io.Writer
	n, max int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.n+int64(len(p)) > c.max {
		return 0, fmt.Errorf("message part writes more than its %d bytes", c.max)
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// dataForm returns the DATA wire form of p when it starts in state st.
func (p *Part) dataForm(st lineState) *encoded {
	if st == stateBegin {
		st = stateBeginLine // the same encoding for a part that is not empty
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.data[st]; e != nil {
		return e
	}
	var e *encoded
	if end, ok := stuffedAsIs(p.raw, st); ok {
		e = &encoded{wire: p.raw, st: end}
	} else {
		wire, end := appendStuffed(make([]byte, 0, len(p.raw)+len(p.raw)/32+8), p.raw, st)
		e = &encoded{wire: wire, st: end}
	}
	p.data[st] = e
	return e
}

// bdatForm returns the BDAT wire form of p when the byte before it is a CR
// (afterCR) or not.
func (p *Part) bdatForm(afterCR bool) *encoded {
	i := 0
	if afterCR {
		i = 1
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e := p.bdat[i]; e != nil {
		return e
	}
	var e *encoded
	if crlfAsIs(p.raw, afterCR) {
		e = &encoded{wire: p.raw, afterCR: len(p.raw) > 0 && p.raw[len(p.raw)-1] == '\r' || len(p.raw) == 0 && afterCR}
	} else {
		wire, last := appendCRLF(make([]byte, 0, len(p.raw)+len(p.raw)/32+8), p.raw, afterCR)
		e = &encoded{wire: wire, afterCR: last}
	}
	p.bdat[i] = e
	return e
}

// wireData returns the DATA wire form of the concatenation of parts (empty
// parts skipped), terminating dot line included, as spans to write in
// order (wire parts written out).
func wireData(parts []*Part) [][]byte { return byteSpans(dataSpans(parts)) }

// wireBDAT returns the BDAT wire form of the concatenation of parts as spans,
// and its total length.
func wireBDAT(parts []*Part) ([][]byte, int) {
	spans, n := bdatSpans(parts)
	return byteSpans(spans), n
}

// Size returns the length of the concatenation of parts as given (before
// encoding).
func Size(parts []*Part) int {
	n := 0
	for _, p := range parts {
		n += p.Len()
	}
	return n
}

// Join returns the concatenation of parts as given (before encoding), or
// nil if a part's stream fails.
func Join(parts []*Part) []byte { return AppendJoin(nil, parts) }

// WriteParts writes the concatenation of parts as given (before encoding)
// to w, a wire part's as its stream writes it: a reader of a large copy
// (the egress gate) gets it without its being joined in memory.
func WriteParts(w io.Writer, parts []*Part) error {
	for _, p := range parts {
		if p.stream != nil {
			if err := p.stream(w); err != nil {
				return fmt.Errorf("write a part of %d bytes: %w", p.n, err)
			}
			continue
		}
		if _, err := w.Write(p.raw); err != nil {
			return err
		}
	}
	return nil
}

// AppendJoin appends the concatenation of parts as given (before encoding)
// to dst and returns the extended slice, or nil if a part's stream fails.
// A caller that checks many copies one after another passes the last
// result back, sliced to [:0]: one buffer for all, rather than a new copy
// of a large post for each.
func AppendJoin(dst []byte, parts []*Part) []byte {
	out := bytes.NewBuffer(dst)
	out.Grow(Size(parts))
	for _, p := range parts {
		if p.stream == nil {
			out.Write(p.raw)
		} else if err := p.stream(out); err != nil {
			return nil
		}
	}
	return out.Bytes()
}
