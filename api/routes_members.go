package api

import (
	"net/http"
	"strconv"

	"cloister/service"
)

// MemberAddBody adds a member to the list of the path.
type MemberAddBody struct {
	Address string `json:"address"`
	Name    string `json:"name,omitempty"`
	// Roles: member (the default), owner, moderator.
	Roles []string `json:"roles,omitempty"`
	// Delivery: regular (the default), digest, nomail.
	Delivery string `json:"delivery,omitempty"`
	// Welcome sends the list's welcome message.
	Welcome bool `json:"welcome,omitempty"`
}

// MemberSetBody changes a member's roles, delivery or name; absent fields
// stay as they are.
type MemberSetBody struct {
	Roles    *[]string `json:"roles,omitempty"`
	Delivery *string   `json:"delivery,omitempty"`
	Name     *string   `json:"name,omitempty"`
}

// DeliveryBody sets a member's delivery mode.
type DeliveryBody struct {
	// Delivery: regular, digest or nomail.
	Delivery string `json:"delivery"`
}

// Member query parameters.
var (
	paramQuery    = Param{"query", "keep members whose address or name contains it"}
	paramRole     = Param{"role", "keep members with this role: member, owner or moderator"}
	paramFormat   = Param{"format", "csv or json (default: from the Content-Type for imports, csv for exports)"}
	paramDryRun   = Param{"dry_run", "true: check every line and report, change nothing"}
	paramSkipBad  = Param{"skip_bad", "true: import the good lines even if some are bad"}
	paramAllRoles = Param{"all_roles", "true: remove every role, not only member"}
)

func memberRoutes() []Route {
	member := func(c *Call) service.MemberRef {
		return service.MemberRef{List: c.Path("list"), Address: c.Path("address")}
	}
	return []Route{
		op(http.MethodGet, "/v1/lists/{list}/members", "memberList", "List or search a list's members", ScopeRead,
			func(c *Call, _ none) ([]service.MemberInfo, error) {
				return c.Svc.MemberList(c.Ctx, c.Actor, service.MemberListRequest{List: c.Path("list"), Query: c.Query("query"), Role: c.Query("role")})
			}).withQuery(paramQuery, paramRole),
		op(http.MethodPost, "/v1/lists/{list}/members", "memberAdd", "Add a member (or an owner or moderator)", ScopeOwner,
			func(c *Call, b MemberAddBody) (service.MemberInfo, error) {
				return c.Svc.MemberAdd(c.Ctx, c.Actor, service.MemberAddRequest{List: c.Path("list"), Address: b.Address,
					Name: b.Name, Roles: b.Roles, Delivery: b.Delivery, Welcome: b.Welcome})
			}).created(),
		op(http.MethodDelete, "/v1/lists/{list}/members/{address}", "memberRemove", "Remove a member", ScopeOwner,
			func(c *Call, _ none) (Done, error) {
				m := member(c)
				all, err := boolQuery(c, "all_roles")
				if err != nil {
					return Done{}, err
				}
				err = c.Svc.MemberRemove(c.Ctx, c.Actor, service.MemberRemoveRequest{List: m.List, Address: m.Address, AllRoles: all})
				return Done{OK: err == nil}, err
			}).withQuery(paramAllRoles),
		op(http.MethodPatch, "/v1/lists/{list}/members/{address}", "memberSet", "Change a member's roles, delivery or name", ScopeOwner,
			func(c *Call, b MemberSetBody) (service.MemberInfo, error) {
				m := member(c)
				return c.Svc.MemberSet(c.Ctx, c.Actor, service.MemberSetRequest{List: m.List, Address: m.Address,
					Roles: b.Roles, Delivery: b.Delivery, Name: b.Name})
			}),
		op(http.MethodPut, "/v1/lists/{list}/members/{address}/delivery", "memberSetDelivery", "Set a member's delivery: regular, digest or nomail", ScopeOwner,
			func(c *Call, b DeliveryBody) (service.MemberInfo, error) {
				m := member(c)
				return c.Svc.MemberSetDelivery(c.Ctx, c.Actor, service.MemberDeliveryRequest{List: m.List, Address: m.Address, Delivery: b.Delivery})
			}),
		rawOp(http.MethodPost, "/v1/lists/{list}/members/import", "memberImport",
			"Import members from CSV (address,name,roles,delivery per line) or JSON, with per-line errors and a dry run", ScopeOwner,
			[]string{"text/csv", "application/json"},
			func(c *Call, body []byte) (service.ImportResult, error) {
				format := c.Query("format")
				if format == "" {
					format = service.FormatCSV
					if ct := c.R.Header.Get("Content-Type"); len(ct) >= 16 && ct[:16] == "application/json" {
						format = service.FormatJSON
					}
				}
				dry, err := boolQuery(c, "dry_run")
				if err != nil {
					return service.ImportResult{}, err
				}
				skip, err := boolQuery(c, "skip_bad")
				if err != nil {
					return service.ImportResult{}, err
				}
				return c.Svc.MemberImport(c.Ctx, c.Actor, service.MemberImportRequest{List: c.Path("list"), Format: format,
					Data: body, DryRun: dry, SkipBad: skip})
			}).withQuery(paramFormat, paramDryRun, paramSkipBad),
		op(http.MethodGet, "/v1/lists/{list}/members/export", "memberExport", "Export the members as CSV or JSON", ScopeRead,
			func(c *Call, _ none) (Raw, error) {
				format := c.Query("format")
				if format == "" {
					format = service.FormatCSV
				}
				ex, err := c.Svc.MemberExport(c.Ctx, c.Actor, service.MemberExportRequest{List: c.Path("list"), Format: format})
				return Raw{ContentType: ex.ContentType, Data: ex.Data}, err
			}).withQuery(paramFormat).rawOut("text/csv", "application/json"),
	}
}

// boolQuery reads a true/false query parameter (absent: false).
func boolQuery(c *Call, name string) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, apiError(service.CodeInvalid, name+" must be true or false")
	}
	return b, nil
}
