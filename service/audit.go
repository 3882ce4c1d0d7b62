package service

import (
	"context"
	"log/slog"
	"time"

	"cloister/lists"
)

// AuditRequest selects audit entries.
type AuditRequest struct {
	// List keeps only one list's entries; site admins may leave it empty
	// for the whole site.
	List string `json:"list,omitempty"`
	// Since keeps only entries at or after it.
	Since time.Time `json:"since,omitempty"`
	// Limit keeps only the last Limit entries (all when <= 0).
	Limit int `json:"limit,omitempty"`
}

// AuditEntry is one recorded change; see lists.AuditEntry.
type AuditEntry = lists.AuditEntry

var opAudit = Op{"audit.list", ClassRead, OpAdmin}

// TargetWithheld stands for the target of a refused request that came in
// an encrypted mail.
const TargetWithheld = "(named in an encrypted mail)"

// entry builds the audit record of an operation.
func (a Actor) entry(op Op, list, target string, err error) *lists.AuditEntry {
	e := &lists.AuditEntry{Actor: a.Address, Method: a.Method, Via: a.Via, Token: a.Token,
		Op: op.Name, List: list, Target: target, Result: "ok"}
	if err != nil {
		e.Result = Code(err)
		if a.Mail != nil && a.Mail.Encrypted {
			// What an encrypted command mail names is not written in clear
			// when nothing was done with it (security invariant 2); a change
			// made stores its target anyway.
			e.Target = TargetWithheld
		}
	}
	if a.Method == MethodToken {
		for _, sc := range a.Scopes {
			e.Scopes = append(e.Scopes, sc.String())
		}
	}
	return e
}

// auditTx records a change in the transaction that makes it.
func (s *Service) auditTx(tx *lists.Tx, a Actor, op Op, list, target string, err error) error {
	return tx.AppendAudit(a.entry(op, list, target, err))
}

// audit records an operation that did not change anything (refused,
// pending, failed) in a transaction of its own; a change that succeeded
// was recorded with it by auditTx, so nothing is written for err == nil.
// A failure to record is logged: the refusal stands either way.
func (s *Service) audit(a Actor, op Op, list, target string, err error) {
	if err == nil {
		return
	}
	e := a.entry(op, list, target, err)
	werr := s.site.Lists.Update(func(tx *lists.Tx) error { return tx.AppendAudit(e) })
	if werr != nil {
		s.site.Log.Error("audit entry not written", slog.String("op", op.Name), slog.String("list", list),
			slog.String("result", e.Result), slog.Any("err", werr))
	}
}

// Audit returns the audit log of a list (its owners), or of the whole site
// (site admins), oldest first.
func (s *Service) Audit(ctx context.Context, a Actor, req AuditRequest) ([]AuditEntry, error) {
	f := lists.AuditFilter{Since: req.Since, Limit: req.Limit}
	if req.List == "" {
		if !a.isSiteAdmin() {
			return nil, errorf(CodeForbidden, "only the site's admins may read the whole audit log; name a list")
		}
	} else if a.isSiteAdmin() {
		// The site's admins read the log of a deleted list too.
		f.List = s.listAddress(req.List)
	} else {
		l, err := s.loadList(req.List)
		if err != nil {
			return nil, err
		}
		if err := s.authorize(a, opAudit, l); err != nil {
			return nil, err
		}
		f.List = l.Address
	}
	var out []*lists.AuditEntry
	err := s.site.Lists.View(func(tx *lists.Tx) error {
		var err error
		out, err = tx.Audit(f)
		return err
	})
	if err != nil {
		return nil, internal(err, "read the audit log")
	}
	res := make([]AuditEntry, len(out))
	for i, e := range out {
		res[i] = *e
	}
	return res, nil
}
