package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"cloister/api"
	"cloister/service"
)

var _ service.API = (*Client)(nil)

func memberPath(list, address string) string {
	return "/v1/lists/" + esc(list) + "/members/" + esc(address)
}

// MemberList implements service.API.
func (c *Client) MemberList(ctx context.Context, _ service.Actor, req service.MemberListRequest) ([]service.MemberInfo, error) {
	q := url.Values{}
	if req.Query != "" {
		q.Set("query", req.Query)
	}
	if req.Role != "" {
		q.Set("role", req.Role)
	}
	var out []service.MemberInfo
	return out, c.Do(ctx, http.MethodGet, "/v1/lists/"+esc(req.List)+"/members", q, nil, &out)
}

// MemberAdd implements service.API.
func (c *Client) MemberAdd(ctx context.Context, _ service.Actor, req service.MemberAddRequest) (service.MemberInfo, error) {
	body := map[string]any{"address": req.Address, "name": req.Name, "roles": req.Roles, "delivery": req.Delivery, "welcome": req.Welcome}
	var out service.MemberInfo
	return out, c.Do(ctx, http.MethodPost, "/v1/lists/"+esc(req.List)+"/members", nil, body, &out)
}

// MemberRemove implements service.API.
func (c *Client) MemberRemove(ctx context.Context, _ service.Actor, req service.MemberRemoveRequest) error {
	q := url.Values{}
	if req.AllRoles {
		q.Set("all_roles", "true")
	}
	return c.Do(ctx, http.MethodDelete, memberPath(req.List, req.Address), q, nil, nil)
}

// MemberSet implements service.API.
func (c *Client) MemberSet(ctx context.Context, _ service.Actor, req service.MemberSetRequest) (service.MemberInfo, error) {
	body := map[string]any{}
	if req.Roles != nil {
		body["roles"] = *req.Roles
	}
	if req.Delivery != nil {
		body["delivery"] = *req.Delivery
	}
	if req.Name != nil {
		body["name"] = *req.Name
	}
	var out service.MemberInfo
	return out, c.Do(ctx, http.MethodPatch, memberPath(req.List, req.Address), nil, body, &out)
}

// MemberSetDelivery implements service.API.
func (c *Client) MemberSetDelivery(ctx context.Context, _ service.Actor, req service.MemberDeliveryRequest) (service.MemberInfo, error) {
	var out service.MemberInfo
	return out, c.Do(ctx, http.MethodPut, memberPath(req.List, req.Address)+"/delivery", nil,
		map[string]string{"delivery": req.Delivery}, &out)
}

// MemberImport implements service.API: the data goes as the raw body.
func (c *Client) MemberImport(ctx context.Context, _ service.Actor, req service.MemberImportRequest) (service.ImportResult, error) {
	q := url.Values{"format": {req.Format}}
	if req.DryRun {
		q.Set("dry_run", strconv.FormatBool(true))
	}
	if req.SkipBad {
		q.Set("skip_bad", strconv.FormatBool(true))
	}
	ct := "text/csv"
	if req.Format == service.FormatJSON {
		ct = "application/json"
	}
	var out service.ImportResult
	return out, c.DoRaw(ctx, http.MethodPost, "/v1/lists/"+esc(req.List)+"/members/import", q, ct, req.Data, &out)
}

// MemberExport implements service.API.
func (c *Client) MemberExport(ctx context.Context, _ service.Actor, req service.MemberExportRequest) (service.Export, error) {
	q := url.Values{}
	if req.Format != "" {
		q.Set("format", req.Format)
	}
	data, ct, err := c.Get(ctx, "/v1/lists/"+esc(req.List)+"/members/export", q)
	return service.Export{ContentType: ct, Data: data}, err
}

// notOverAPI answers the operations a token cannot do: they act for a
// person's own address (unsubscribe, my subscriptions, my key).
func notOverAPI(what string) error {
	return &service.Error{Code: service.CodeInvalid, Message: what + " acts for a person's own address and is not offered over the API; use mail or the web"}
}

// Subscribe implements service.API: a token that runs the list (its owner,
// the site's admins) starts the subscription of an address, which is
// mailed a confirmation (a pending error until it answers).
func (c *Client) Subscribe(ctx context.Context, _ service.Actor, req service.SubscribeRequest) (service.MemberInfo, error) {
	var out service.MemberInfo
	return out, c.Do(ctx, http.MethodPost, "/v1/lists/"+esc(req.List)+"/subscriptions", nil,
		api.SubscribeBody{Address: req.Address, Name: req.Name}, &out)
}

// Unsubscribe implements service.API.
func (c *Client) Unsubscribe(context.Context, service.Actor, service.MemberRef) error {
	return notOverAPI("unsubscribe")
}

// MySubscriptions implements service.API.
func (c *Client) MySubscriptions(context.Context, service.Actor, service.MySubscriptionsRequest) ([]service.Subscription, error) {
	return nil, notOverAPI("my subscriptions")
}
