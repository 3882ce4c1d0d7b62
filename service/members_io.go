package service

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"cloister/lists"
)

// Bounds on member imports.
const (
	// MaxImportSize bounds an import's data.
	MaxImportSize = 32 << 20
	// maxBadLines bounds how many bad lines an import reports one by one.
	maxBadLines = 100
	// importBatch is how many members one transaction adds.
	importBatch = 1000
)

// Formats of member imports and exports.
const (
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// MemberImportRequest adds many members at once from CSV
// (address[,name[,roles[,delivery[,subscribed]]]] per line, # comments, a
// header line starting with "address" skipped) or JSON (an array of
// members as MemberExport writes). Every line is checked first; with any
// bad line nothing is imported unless SkipBad. DryRun checks and reports
// without changing anything.
type MemberImportRequest struct {
	List    string `json:"list"`
	Format  string `json:"format"`
	Data    []byte `json:"data"`
	DryRun  bool   `json:"dry_run,omitempty"`
	SkipBad bool   `json:"skip_bad,omitempty"`
}

// LineError is one bad line of an import.
type LineError struct {
	// Line is the line's number (CSV) or the entry's index from 1 (JSON);
	// 0 when the error is about the whole input.
	Line    int    `json:"line"`
	Message string `json:"message"`
}

// ImportResult says what an import did, or would do (DryRun).
type ImportResult struct {
	// Added is how many members were (would be) added.
	Added int `json:"added"`
	// Existing is how many were on the list already (left as they are).
	Existing int `json:"existing"`
	// Bad are the bad lines, at most 100 of them; BadCount counts all.
	Bad      []LineError `json:"bad,omitempty"`
	BadCount int         `json:"bad_count"`
	// Good is how many good new members the input holds (those a refused
	// import would have added).
	Good   int  `json:"good"`
	DryRun bool `json:"dry_run,omitempty"`
}

// MemberExportRequest asks for a list's members as CSV or JSON.
type MemberExportRequest struct {
	List   string `json:"list"`
	Format string `json:"format"`
}

// Export is a file produced by an operation.
type Export struct {
	ContentType string `json:"content_type"`
	Data        []byte `json:"data"`
}

// importLine is one member line of an import.
type importLine struct {
	line int
	m    *lists.Member
}

// parseCSV reads a CSV import; it returns the good lines and one problem
// per bad line, each with its number.
func parseCSV(r io.Reader) ([]importLine, []LineError) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	var good []importLine
	var bad []LineError
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				bad = append(bad, LineError{Message: err.Error()})
				break
			}
			bad = append(bad, LineError{Line: pe.StartLine, Message: pe.Err.Error()})
			if len(bad) > maxBadLines {
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" || strings.EqualFold(strings.TrimSpace(rec[0]), "address") {
			continue
		}
		m := &lists.Member{Address: csvUncell(strings.TrimSpace(rec[0])), Delivery: lists.DeliveryEnabled}
		badf := func(format string, a ...any) {
			bad = append(bad, LineError{Line: line, Message: m.Address + ": " + fmt.Sprintf(format, a...)})
		}
		if len(rec) > 5 {
			bad = append(bad, LineError{Line: line, Message: fmt.Sprintf("%d fields, at most address,name,roles,delivery,subscribed", len(rec))})
			continue
		}
		if len(rec) > 1 {
			m.Name = csvUncell(strings.TrimSpace(rec[1]))
		}
		if len(rec) > 2 {
			rs, err := ParseRoles(strings.FieldsFunc(rec[2], func(r rune) bool { return r == ',' || r == '+' || r == ' ' }))
			if err != nil {
				badf("%s", Message(err))
				continue
			}
			m.Roles = rs
		}
		if len(rec) > 3 && strings.TrimSpace(rec[3]) != "" {
			switch d := lists.Delivery(strings.TrimSpace(rec[3])); d {
			case lists.DeliveryEnabled, lists.DeliveryDisabled, lists.DeliveryDigest:
				m.Delivery = d
			default:
				badf("delivery %q (enabled, disabled or digest)", rec[3])
				continue
			}
		}
		if len(rec) > 4 && strings.TrimSpace(rec[4]) != "" {
			t, err := time.Parse(time.RFC3339, strings.TrimSpace(rec[4]))
			if err != nil {
				badf("subscribed %q is not an RFC 3339 time", rec[4])
				continue
			}
			m.Subscribed = t
		}
		good = append(good, importLine{line: line, m: m})
	}
	return good, bad
}

// parseJSON reads a JSON import: an array of members.
func parseJSON(data []byte) ([]importLine, []LineError) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, []LineError{{Message: "not a JSON array of members: " + err.Error()}}
	}
	var good []importLine
	var bad []LineError
	for i, r := range raw {
		var m lists.Member
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			bad = append(bad, LineError{Line: i + 1, Message: err.Error()})
			continue
		}
		if m.Delivery == "" {
			m.Delivery = lists.DeliveryEnabled
		}
		good = append(good, importLine{line: i + 1, m: &m})
	}
	return good, bad
}

// errRollBack undoes the trial transaction of an import.
var errRollBack = errors.New("roll back")

// MemberImport adds many members at once (owners; roles other than member
// need the site's admins), reporting each bad line with its number.
func (s *Service) MemberImport(ctx context.Context, a Actor, req MemberImportRequest) (res ImportResult, err error) {
	addr := s.listAddress(req.List)
	defer func() {
		if req.DryRun {
			return
		}
		s.audit(a, opMemberImport, addr, fmt.Sprintf("%d added", res.Added), err)
	}()
	res.DryRun = req.DryRun
	l, err := s.loadList(req.List)
	if err != nil {
		return res, err
	}
	if err := s.authorize(a, opMemberImport, l); err != nil {
		return res, err
	}
	if len(req.Data) > MaxImportSize {
		return res, errorf(CodeTooLarge, "the import is larger than %d MiB", MaxImportSize>>20)
	}
	var good []importLine
	var bad []LineError
	switch strings.ToLower(req.Format) {
	case FormatCSV, "":
		good, bad = parseCSV(bytes.NewReader(req.Data))
	case FormatJSON:
		good, bad = parseJSON(req.Data)
	default:
		return res, errorf(CodeInvalid, "format %q: want csv or json", req.Format)
	}
	if !a.isSiteAdmin() {
		kept := good[:0]
		for _, il := range good {
			if len(il.m.Roles) > 0 && !slices.Equal(il.m.Roles, []lists.Role{lists.RoleMember}) {
				bad = append(bad, LineError{Line: il.line, Message: il.m.Address + ": only the site's admins may give roles other than member"})
				continue
			}
			kept = append(kept, il)
		}
		good = kept
	}
	// In the roster's key order: the store inserts each key into the
	// in-memory copy of its page, so keys in a random order cost a move of
	// every key already added (quadratic: a 4 MiB import took minutes and
	// outlived the daemon's write time-out), in order only the page's.
	// Stable, so that of two lines with one address the first is added.
	slices.SortStableFunc(good, func(x, y importLine) int { return strings.Compare(x.m.Key(), y.m.Key()) })
	// A trial run in a transaction that is always rolled back checks every
	// line with the store's own rules.
	var toAdd []importLine
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		for _, il := range good {
			m := *il.m
			err := tx.AddMember(l.Address, &m)
			switch {
			case errors.Is(err, lists.ErrMemberExists):
				res.Existing++
			case err != nil:
				bad = append(bad, LineError{Line: il.line, Message: err.Error()})
			default:
				toAdd = append(toAdd, il)
			}
		}
		return errRollBack
	})
	if !errors.Is(err, errRollBack) {
		return res, storeError(err, "check the import")
	}
	slices.SortStableFunc(bad, func(x, y LineError) int { return x.Line - y.Line })
	res.BadCount = len(bad)
	res.Good = len(toAdd)
	res.Bad = bad[:min(len(bad), maxBadLines)]
	if req.DryRun {
		res.Added = len(toAdd)
		return res, nil
	}
	if len(bad) > 0 && !req.SkipBad {
		return res, errorf(CodeInvalid, "%d bad lines: nothing imported (fix them, or skip the bad lines to import the %d good ones)", len(bad), len(toAdd))
	}
	for start := 0; start < len(toAdd); start += importBatch {
		batch := toAdd[start:min(start+importBatch, len(toAdd))]
		added := 0
		err := s.site.Lists.Update(func(tx *lists.Tx) error {
			added = 0
			for _, il := range batch {
				err := tx.AddMember(l.Address, il.m)
				if errors.Is(err, lists.ErrMemberExists) {
					res.Existing++
					continue
				}
				if err != nil {
					return fmt.Errorf("line %d: %w", il.line, err)
				}
				if err := s.auditTx(tx, a, opMemberImport, l.Address, il.m.Address, nil); err != nil {
					return err
				}
				added++
			}
			return nil
		})
		if err != nil {
			return res, wrapf(err, Code(storeError(err, "import")), "after %d imported: %s", res.Added, Message(storeError(err, "import")))
		}
		res.Added += added
	}
	return res, nil
}

// MemberExport returns a list's members as CSV
// (address,name,roles,delivery,subscribed; MemberImport reads it back) or
// a JSON array.
func (s *Service) MemberExport(ctx context.Context, a Actor, req MemberExportRequest) (Export, error) {
	l, err := s.loadList(req.List)
	if err != nil {
		return Export{}, err
	}
	if err := s.authorize(a, opMemberExport, l); err != nil {
		return Export{}, err
	}
	format := strings.ToLower(req.Format)
	if format != FormatCSV && format != FormatJSON {
		return Export{}, errorf(CodeInvalid, "format %q: want csv or json", req.Format)
	}
	members := []*lists.Member{}
	err = s.site.Lists.View(func(tx *lists.Tx) error {
		return tx.ForEachMember(l.Address, func(m *lists.Member) error {
			members = append(members, m)
			return nil
		})
	})
	if err != nil {
		return Export{}, storeError(err, "read the members")
	}
	var buf bytes.Buffer
	if format == FormatJSON {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(members); err != nil {
			return Export{}, internal(err, "write the export")
		}
		return Export{ContentType: "application/json", Data: buf.Bytes()}, nil
	}
	w := csv.NewWriter(&buf)
	w.Write([]string{"address", "name", "roles", "delivery", "subscribed"})
	for _, m := range members {
		rs := make([]string, len(m.Roles))
		for i, r := range m.Roles {
			rs[i] = string(r)
		}
		sub := ""
		if !m.Subscribed.IsZero() {
			sub = m.Subscribed.UTC().Format(time.RFC3339)
		}
		w.Write([]string{csvCell(m.Address), csvCell(m.Name), strings.Join(rs, "+"), string(m.Delivery), sub})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return Export{}, internal(err, "write the export")
	}
	return Export{ContentType: "text/csv; charset=utf-8", Data: buf.Bytes()}, nil
}
