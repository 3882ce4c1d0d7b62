package mta

import "sync"

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

// Len is the length of the part as given (before encoding).
func (p *Part) Len() int { return len(p.raw) }

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
// parts skipped),
// terminating dot line included, as spans to write in order.
func wireData(parts []*Part) [][]byte {
	out := make([][]byte, 0, len(parts)+1)
	st := stateBegin
	for _, p := range parts {
		if p.Len() == 0 {
			continue
		}
		e := p.dataForm(st)
		out = append(out, e.wire)
		st = e.st
	}
	return append(out, dataEnd(st))
}

// wireBDAT returns the BDAT wire form of the concatenation of parts as spans,
// and its total length.
func wireBDAT(parts []*Part) ([][]byte, int) {
	out := make([][]byte, 0, len(parts))
	n := 0
	afterCR := false
	for _, p := range parts {
		if p.Len() == 0 {
			continue
		}
		e := p.bdatForm(afterCR)
		out = append(out, e.wire)
		n += len(e.wire)
		afterCR = e.afterCR
	}
	return out, n
}

// Join returns the concatenation of parts as given (before encoding).
func Join(parts []*Part) []byte {
	n := 0
	for _, p := range parts {
		n += len(p.raw)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p.raw...)
	}
	return out
}
