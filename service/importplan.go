package service

import (
	"context"
	"fmt"

	"cloister/lists"
	"cloister/migrate"
)

// ImportPlanRequest makes the list of an import plan (cloister import
// schleuder, import mailman3); with DryRun it only checks it.
type ImportPlanRequest struct {
	Plan   migrate.Plan `json:"plan"`
	DryRun bool         `json:"dry_run,omitempty"`
}

// ImportPlanResult says what an import made: the list, its secret key's
// fingerprint, and each member key bound (or why not).
type ImportPlanResult struct {
	List    string        `json:"list"`
	DryRun  bool          `json:"dry_run,omitempty"`
	ListKey string        `json:"list_key,omitempty"`
	Keys    []ImportedKey `json:"keys,omitempty"`
}

// ImportedKey is one member key of an import: its fingerprint, or the
// reason it was not bound.
type ImportedKey struct {
	Address     string `json:"address"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Error       string `json:"error,omitempty"`
}

var opListImport = Op{"list.import", ClassSite, ""}

// ApplyImport makes the list of an import plan (site admins): the style's
// settings, then the plan's, the members in the transaction that creates
// the list, then the list's secret key and the members' keys (bound on the
// other server's admins' word). Nothing is made when the list exists or a
// setting is refused; a key that is not taken is reported, not fatal.
// Each change is audited.
func (s *Service) ApplyImport(ctx context.Context, a Actor, req ImportPlanRequest) (res ImportPlanResult, err error) {
	p := req.Plan
	addr := s.listAddress(p.Address)
	defer func() { s.audit(a, opListImport, addr, "", err) }()
	if err := s.authorize(a, opListImport, nil); err != nil {
		return ImportPlanResult{}, err
	}
	l, err := lists.NewList(addr, s.now())
	if err != nil {
		return ImportPlanResult{}, wrapf(err, CodeInvalid, "%v", err)
	}
	addr = l.Address
	l.Description = p.Description
	st, err := s.loadStyle(p.Style)
	if err != nil {
		return ImportPlanResult{}, err
	}
	if err := st.Apply(l, s.scenarioExists); err != nil {
		return ImportPlanResult{}, storeError(err, "apply the style")
	}
	for _, kv := range p.Settings {
		if err := l.Settings.Set(kv[0], kv[1]); err != nil {
			return ImportPlanResult{}, wrapf(err, CodeInvalid, "import %s: setting %s %q: %v", addr, kv[0], kv[1], err)
		}
		if err := s.scenarioExists(kv[0], l.Settings); err != nil {
			return ImportPlanResult{}, storeError(fmt.Errorf("import %s: %w", addr, err), "check the settings")
		}
	}
	members := make([]*lists.Member, len(p.Members))
	keys := len(p.ListSecretKey) > 0
	for i, m := range p.Members {
		members[i] = &lists.Member{Address: m.Address, Name: m.Name, Roles: planRoles(m), Delivery: lists.Delivery(m.Delivery)}
		if len(m.Key) > MaxKeySize {
			return ImportPlanResult{}, errorf(CodeTooLarge, "the key of %s is larger than %d bytes", m.Address, MaxKeySize)
		}
		keys = keys || len(m.Key) > 0
	}
	res = ImportPlanResult{List: addr, DryRun: req.DryRun}
	if req.DryRun {
		return res, nil
	}
	k, openErr := s.openKeyring()
	if openErr != nil && keys {
		return ImportPlanResult{}, wrapf(openErr, CodeUnavailable, "import %s needs the keyring, which cannot be opened", addr)
	}
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		if err := tx.CreateList(l); err != nil {
			return err
		}
		for _, m := range members {
			if err := tx.AddMember(l.Address, m); err != nil {
				return fmt.Errorf("member %s: %w", m.Address, err)
			}
		}
		return s.auditTx(tx, a, opListImport, l.Address, fmt.Sprintf("%d members", len(members)), nil)
	})
	if err != nil {
		return ImportPlanResult{}, storeError(err, "create the list")
	}
	if len(p.ListSecretKey) > 0 {
		fpr, err := k.ImportOpenPGPSecret(l.Address, p.ListSecretKey, nil)
		if err != nil {
			return res, wrapf(err, CodeInvalid, "import %s: list key (the list exists now; import the key with cloister key import): %v", addr, err)
		}
		s.auditDone(a, opListKeyImport, l.Address, "openpgp "+fpr)
		res.ListKey = fpr
	}
	for _, m := range p.Members {
		if len(m.Key) == 0 {
			continue
		}
		fpr, err := k.AddOpenPGP(m.Address, m.Key, true)
		if err != nil {
			res.Keys = append(res.Keys, ImportedKey{Address: m.Address, Error: err.Error()})
			continue
		}
		s.auditDone(a, opKeyAdd, l.Address, m.Address+" "+fpr+" (import)")
		res.Keys = append(res.Keys, ImportedKey{Address: m.Address, Fingerprint: fpr})
	}
	return res, nil
}

// planRoles returns a plan member's Cloister roles.
func planRoles(m migrate.Member) []lists.Role {
	var r []lists.Role
	if m.Member {
		r = append(r, lists.RoleMember)
	}
	if m.Moderator {
		r = append(r, lists.RoleModerator)
	}
	if m.Owner {
		r = append(r, lists.RoleOwner)
	}
	return r
}
