package mta

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// pipelineGroup bounds the commands written before their replies are read
// under PIPELINING: a server that answers each command before reading the
// next can fill the socket buffers with replies nobody reads while the
// client is still writing; a hundred short replies fit in any buffer.
const pipelineGroup = 100

// Txn is one transaction for SendTxn: the envelope and the message, the
// concatenation of Parts (see Part). A Txn is compared by identity: the
// call of SendTxn that sends a transaction named as next by the call
// before must be given the same *Txn.
type Txn struct {
	From  string
	To    []string
	Parts []*Part
}

// txnState is a transaction on the session: what is known of its
// recipients, and whether its message is still owed (DATA answered 354)
// or its result is final (done).
type txnState struct {
	t     *Txn
	res   Result
	rcpts []string // the recipients given RCPT, in order
	cmds  [][]byte // MAIL, then one RCPT per recipient
	final []span   // DATA, or BDAT and the message

	mailFailed bool
	mailReply  string
	mailPerm   bool

	done bool  // the result is final: nothing more of it goes on the wire
	err  error // with done: the error SendTxn returns with the result
}

// SendParts runs one transaction whose message is the concatenation of
// parts. Parts keep their wire form (see Part), so parts shared by many
// copies are encoded once. Results and errors are as for Send.
func (s *Session) SendParts(from string, to []string, parts ...*Part) (Result, error) {
	return s.SendTxn(&Txn{From: from, To: to, Parts: parts}, nil)
}

// SendTxn runs the transaction t, as Send does, and returns its result.
//
// With PIPELINING (RFC 2920) MAIL, the RCPTs and DATA go out in one write
// (BDAT with the message itself when the server offers CHUNKING), and the
// replies are read after it; without, each command waits for its reply.
// Either way the message is written in large spans: the commands of a
// group, the message and its terminating line in one writev.
//
// next, when not nil, is the transaction the caller sends after t. Under
// PIPELINING with DATA, next's MAIL, RCPTs and DATA go out in the same
// write as t's message and its terminating dot (RFC 2920 lets message
// content begin a group), and their replies are read after t's final
// reply: one write and one round trip per transaction instead of two.
// next's message is not sent: that is for the caller's next call, which
// must be SendTxn(next, ...), and which returns next's result, whatever
// its envelope's replies were. Between the two calls the server is owed
// next's message; Close drops the connection then, so that the server
// takes nothing. Each result is exactly its own transaction's: a reply
// to next's envelope never settles a recipient of t, nor the other way.
func (s *Session) SendTxn(t, next *Txn) (Result, error) {
	st := s.open
	s.open = nil
	if st != nil && st.t != t {
		// The server waits for the message of another transaction: nothing
		// sent on this connection now would be read as meant.
		s.c.Close()
		st = newTxnState(t)
		return s.lost(st, "send", errors.New("transaction sent out of the order announced"))
	}
	s.conn.SetDeadline(time.Now().Add(s.timeout))
	defer s.conn.SetDeadline(time.Time{})
	if st == nil {
		st = s.prepare(t)
		if st.done {
			return st.res, st.err
		}
		s.envelope(st, false)
	}
	if st.done {
		return st.res, st.err
	}
	// DATA answered 354: the message, and with it next's envelope.
	spans := dataSpans(t.Parts)
	var nx *txnState
	if next != nil && s.pipelining && !s.chunking {
		if nx = s.prepare(next); nx.done || len(nx.cmds) > pipelineGroup {
			nx = nil // nothing to write, or more than a group: the next call runs it
		} else {
			for _, c := range nx.cmds {
				spans = append(spans, span{b: c})
			}
			spans = append(spans, nx.final...)
		}
	}
	if err := s.writeSpans(spans); err != nil {
		return s.lost(st, "write message", err)
	}
	code, text, err := readReply(s.r)
	if err != nil {
		return s.lost(st, "read DATA reply", err)
	}
	s.settle(&st.res, code, text)
	if nx != nil {
		s.envelope(nx, true) // its replies follow t's
		s.open = nx
	}
	return st.res, nil
}

// newTxnState returns the state of t before anything of it is written:
// recipients with a line break are refused, and the commands are made.
func newTxnState(t *Txn) *txnState {
	st := &txnState{t: t, res: Result{Temp: map[string]string{}, Perm: map[string]string{}}}
	for _, r := range t.To {
		if strings.ContainsAny(r, "\r\n") {
			st.res.Perm[r] = "invalid address: it has a line break"
			continue
		}
		st.rcpts = append(st.rcpts, r)
	}
	return st
}

// prepare returns t's state with its commands made, done already when
// nothing of it may go on the wire (a sender with a line break, no
// recipient left).
func (s *Session) prepare(t *Txn) *txnState {
	st := newTxnState(t)
	if strings.ContainsAny(t.From, "\r\n") {
		for _, r := range t.To {
			if _, perm := st.res.Perm[r]; !perm {
				st.res.Temp[r] = "envelope sender has a line break"
			}
		}
		st.done, st.err = true, fmt.Errorf("MAIL FROM: envelope sender %q has a line break", t.From)
		return st
	}
	if len(st.rcpts) == 0 {
		st.done = true
		return st
	}
	st.cmds = make([][]byte, 0, len(st.rcpts)+1)
	mail := "MAIL FROM:<" + t.From + ">"
	if s.eightBit {
		mail += " BODY=8BITMIME"
	}
	st.cmds = append(st.cmds, []byte(mail+"\r\n"))
	for _, r := range st.rcpts {
		st.cmds = append(st.cmds, []byte("RCPT TO:<"+r+">\r\n"))
	}
	if s.chunking {
		spans, n := bdatSpans(t.Parts)
		st.final = append([]span{{b: fmt.Appendf(nil, "BDAT %d LAST\r\n", n)}}, spans...)
	} else {
		st.final = []span{{b: []byte("DATA\r\n")}}
	}
	return st
}

// envelope runs st's MAIL, RCPTs and DATA (or BDAT and the message) and
// reads their replies, in groups under PIPELINING, one by one without.
// written says that the first group, every command and the final one, is
// on the wire already (SendTxn's next). It leaves st done, or owed its
// message after a 354.
func (s *Session) envelope(st *txnState, written bool) {
	group := 1
	if s.pipelining {
		group = pipelineGroup
	}
	next := 0 // index into cmds of the next command to write
	for next < len(st.cmds) {
		n := min(group, len(st.cmds)-next)
		withFinal := s.pipelining && next+n == len(st.cmds)
		if !written {
			bufs := make([]span, 0, n+len(st.final))
			for _, c := range st.cmds[next : next+n] {
				bufs = append(bufs, span{b: c})
			}
			if withFinal {
				bufs = append(bufs, st.final...)
			}
			if err := s.writeSpans(bufs); err != nil {
				s.lost(st, "write commands", err)
				return
			}
		}
		written = false
		for i := next; i < next+n; i++ {
			code, text, err := readReply(s.r)
			if err != nil {
				s.lost(st, "read reply", err)
				return
			}
			switch {
			case i == 0:
				if code/100 != 2 {
					st.mailFailed, st.mailReply, st.mailPerm = true, replyText(code, text), code >= 500
				}
			case st.mailFailed:
				// RCPTs after a refused MAIL are refused for that reason.
			case code/100 == 2:
				st.res.Accepted = append(st.res.Accepted, st.rcpts[i-1])
			case code >= 500:
				st.res.Perm[st.rcpts[i-1]] = replyText(code, text)
			default:
				st.res.Temp[st.rcpts[i-1]] = replyText(code, text)
			}
		}
		next += n
		if st.mailFailed && !withFinal {
			break // nothing more is sent for a refused MAIL
		}
		if withFinal {
			s.dataReply(st)
			return
		}
	}
	if st.mailFailed {
		s.mailRefused(st)
		return
	}
	if len(st.res.Accepted) == 0 {
		st.done, st.err = true, s.reset()
		return
	}
	if err := s.writeSpans(st.final); err != nil {
		s.lost(st, "write "+s.verb(), err)
		return
	}
	s.dataReply(st)
}

// verb names the command that carries the message.
func (s *Session) verb() string {
	if s.chunking {
		return "BDAT"
	}
	return "DATA"
}

// dataReply reads the reply to DATA or BDAT (already written) and settles
// st, unless DATA's 354 leaves it owed its message.
func (s *Session) dataReply(st *txnState) {
	code, text, err := readReply(s.r)
	if err != nil {
		s.lost(st, "read "+s.verb()+" reply", err)
		return
	}
	if st.mailFailed || (!s.chunking && code == 354 && len(st.res.Accepted) == 0) {
		if !s.chunking && code == 354 {
			// A server that should have refused DATA: end it empty.
			if err := s.write([][]byte{[]byte(".\r\n")}); err != nil {
				s.lost(st, "write DATA", err)
				return
			}
			if _, _, err := readReply(s.r); err != nil {
				s.lost(st, "read DATA reply", err)
				return
			}
		}
		if st.mailFailed {
			s.mailRefused(st)
		} else { // nobody to send it to
			st.done, st.err = true, s.reset()
		}
		return
	}
	if !s.chunking && code == 354 {
		return // the message is owed
	}
	st.done = true
	if len(st.res.Accepted) == 0 {
		st.err = s.reset()
		return
	}
	s.settle(&st.res, code, text)
	if code/100 != 2 {
		st.err = s.reset() // DATA refused, or BDAT: the transaction is left open
	}
}

// settle gives the accepted recipients the fate of the message's final reply.
func (s *Session) settle(res *Result, code int, text string) {
	if code/100 == 2 {
		return
	}
	reply := replyText(code, text)
	for _, r := range res.Accepted {
		if code >= 500 {
			res.Perm[r] = reply
		} else {
			res.Temp[r] = reply
		}
	}
	res.Accepted = nil
}

// replyText is a reply as a result records it: its code and its text.
func replyText(code int, text string) string { return strconv.Itoa(code) + " " + text }

// mailRefused settles a transaction whose MAIL was refused: every recipient
// shares its fate. A temporary refusal ends the session's use (as a lost
// connection does); a permanent one only this transaction.
func (s *Session) mailRefused(st *txnState) {
	res := &st.res
	res.Accepted = nil
	for _, r := range st.rcpts {
		delete(res.Temp, r)
		delete(res.Perm, r)
		if st.mailPerm {
			res.Perm[r] = st.mailReply
		} else {
			res.Temp[r] = st.mailReply
		}
	}
	rerr := s.reset()
	st.done, st.err = true, rerr
	if !st.mailPerm {
		st.err = fmt.Errorf("MAIL FROM: %s", st.mailReply)
	}
}

// lost settles st after the connection failed mid-transaction: every
// recipient not refused for good is temporary. It returns st's result and
// the error, for SendTxn.
func (s *Session) lost(st *txnState, what string, err error) (Result, error) {
	res := &st.res
	for _, r := range st.rcpts {
		if _, perm := res.Perm[r]; !perm {
			res.Temp[r] = err.Error()
		}
	}
	res.Accepted = nil
	st.done, st.err = true, fmt.Errorf("%s: %w", what, err)
	return *res, st.err
}

// writeSpans writes spans to the connection. When a wire part fails, the
// message on the wire is not the one meant: the connection is closed, so
// that the server drops the transaction instead of taking what it got (or
// reading the next command as the rest of a BDAT chunk).
func (s *Session) writeSpans(spans []span) error {
	err := writeSpans(s.conn, spans)
	var pe *partError
	if errors.As(err, &pe) {
		s.conn.Close()
	}
	return err
}

// write writes spans in one writev.
func (s *Session) write(spans [][]byte) error {
	bufs := net.Buffers(spans)
	_, err := bufs.WriteTo(s.conn)
	return err
}

// reset ends a transaction that did not deliver (RSET). An error means the
// connection is no longer usable.
func (s *Session) reset() error {
	if err := s.write([][]byte{[]byte("RSET\r\n")}); err != nil {
		return fmt.Errorf("RSET: %w", err)
	}
	code, text, err := readReply(s.r)
	if err != nil {
		return fmt.Errorf("RSET: %w", err)
	}
	if code/100 != 2 {
		return fmt.Errorf("RSET: %d %s", code, text)
	}
	return nil
}
