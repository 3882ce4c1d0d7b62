package api

import (
	"net/http"

	"cloister/service"
)

// SettingsResponse is a list's settings, each with its documentation and type.
type SettingsResponse struct {
	List     string            `json:"list"`
	Settings []service.Setting `json:"settings"`
}

// SettingsRequest changes settings of a list, all or none.
type SettingsRequest struct {
	// Settings maps setting names to their new values.
	Settings map[string]string `json:"settings"`
}

// StyleRequest applies a style to a list.
type StyleRequest struct {
	Style string `json:"style"`
}

func listRoutes() []Route {
	return []Route{
		op(http.MethodPost, "/v1/imports", "listImport", "Make a list from an import plan of another list server (cloister import; dry_run only checks it)", ScopeAdmin,
			func(c *Call, req service.ImportPlanRequest) (service.ImportPlanResult, error) {
				return c.Svc.ApplyImport(c.Ctx, c.Actor, req)
			}),
		op(http.MethodGet, "/v1/lists", "listList", "List the lists (members counted for those the token may read)", ScopeAny,
			func(c *Call, _ none) ([]service.ListSummary, error) {
				return c.Svc.ListList(c.Ctx, c.Actor, service.ListListRequest{})
			}),
		op(http.MethodPost, "/v1/lists", "listCreate", "Create a list, optionally with a style", ScopeAdmin,
			func(c *Call, req service.ListCreateRequest) (service.ListInfo, error) {
				return c.Svc.ListCreate(c.Ctx, c.Actor, req)
			}).created(),
		op(http.MethodGet, "/v1/lists/{list}", "listShow", "Show a list with its settings", ScopeRead,
			func(c *Call, _ none) (service.ListInfo, error) {
				return c.Svc.ListShow(c.Ctx, c.Actor, service.ListRef{List: c.Path("list")})
			}),
		op(http.MethodDelete, "/v1/lists/{list}", "listDelete", "Delete a list", ScopeAdmin,
			func(c *Call, _ none) (Done, error) {
				err := c.Svc.ListDelete(c.Ctx, c.Actor, service.ListRef{List: c.Path("list")})
				return Done{OK: err == nil}, err
			}),
		op(http.MethodGet, "/v1/lists/{list}/settings", "settingsGet", "A list's settings with each one's documentation, type and default", ScopeRead,
			func(c *Call, _ none) (SettingsResponse, error) {
				info, err := c.Svc.ListShow(c.Ctx, c.Actor, service.ListRef{List: c.Path("list")})
				return SettingsResponse{List: info.Address, Settings: info.Settings}, err
			}),
		op(http.MethodPatch, "/v1/lists/{list}/settings", "settingsSet", "Change settings of a list (all or none)", ScopeOwner,
			func(c *Call, req SettingsRequest) (service.ListInfo, error) {
				return c.Svc.ListSet(c.Ctx, c.Actor, service.ListSetRequest{List: c.Path("list"), Settings: req.Settings})
			}),
		op(http.MethodPost, "/v1/lists/{list}/style", "listApplyStyle", "Apply a style's settings to a list (owners: a style of owner settings only)", ScopeOwner,
			func(c *Call, req StyleRequest) (service.ListInfo, error) {
				return c.Svc.ListApplyStyle(c.Ctx, c.Actor, service.ListStyleRequest{List: c.Path("list"), Style: req.Style})
			}),
		op(http.MethodGet, "/v1/styles", "styleList", "The list styles the site offers", ScopeAny,
			func(c *Call, _ none) ([]service.StyleInfo, error) {
				return c.Svc.StyleList(c.Ctx, c.Actor)
			}),
	}
}
