package v2

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/octavia-es/octavia-es/http/fault"
)

// maxBody bounds a request body; Octavia's largest (a batch of members)
// stays far below it.
const maxBody = 4 << 20

var jsonMimetypes = []string{"application/json", "text/javascript", "application/javascript"}

// body is how one write endpoint takes its arguments, as its wsme
// signature does: the body argument's name (quoted in errors), the root
// type, the query parameters it declares, and whether the body is required.
type body struct {
	arg      string
	root     *complexType
	params   []string
	optional bool
}

// decode reads r's arguments as wsme does for a pecan controller: query
// (and form) parameters the function does not declare are refused, the
// body must be JSON, and the root object is converted and validated. It
// returns the root record (nil when the body was empty and optional).
func (b body) decode(r *http.Request) (*record, *fault.Error) {
	raw, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fault.New(http.StatusRequestEntityTooLarge, "Request body too large")
		}
		return nil, fault.BadRequest("Request is not in valid JSON format")
	}
	mimetype := requestMimetype(r)
	names := queryNames(r.URL.RawQuery)
	// webob parses a form body into parameters: a POST without a content
	// type, or any form post. This is how a JSON body sent without
	// Content-Type becomes 'Unknown argument: "<body>"'.
	if mimetype == "application/x-www-form-urlencoded" || (mimetype == "" && r.Method == http.MethodPost) {
		names = appendUnique(names, queryNames(string(raw))...)
	}
	var unknown []string
	for _, n := range names {
		if !contains(b.params, n) {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return nil, fault.BadRequest(`Unknown argument: "%s"`, strings.Join(unknown, ", "))
	}
	if len(raw) == 0 || mimetype == "application/x-www-form-urlencoded" {
		if b.optional {
			return nil, nil
		}
		return nil, fault.BadRequest(`Missing argument: "%s"`, b.arg)
	}
	if !contains(jsonMimetypes, mimetype) {
		return nil, fault.New(http.StatusUnsupportedMediaType, "Unknown mimetype: %s", mimetype)
	}
	doc, err := parseJSON(raw)
	if err != nil {
		return nil, fault.BadRequest("Request is not in valid JSON format")
	}
	v, err := b.root.convert(doc)
	if err != nil {
		return nil, argumentError(b.arg, doc, err)
	}
	rec, _ := v.(*record)
	return rec, nil
}

// argumentError renders a conversion failure as wsme's parse() does.
func argumentError(arg string, doc any, err error) *fault.Error {
	switch e := err.(type) {
	case *unknownAttribute:
		e.path = append([]string{arg}, e.path...)
		return fault.BadRequest("%s", e.Error())
	case *invalidInput:
		return fault.BadRequest("%s", e.Error())
	case notObject:
		return fault.BadRequest("%s", (&invalidInput{field: arg, value: doc, msg: e.Error()}).Error())
	default: // a ValueError: reported against the whole argument
		return fault.BadRequest("%s", (&invalidInput{field: arg, value: doc, msg: err.Error()}).Error())
	}
}

// resource is the wrapped object of a root record ({"loadbalancer": {...}}):
// refused when missing or null (Octavia fails with a 500 there).
func resource(root *record, key string) (*record, *fault.Error) {
	rec := root.sub(key)
	if rec == nil {
		return nil, fault.BadRequest("%s", (&invalidInput{field: key, msg: "Mandatory field missing."}).Error())
	}
	return rec, nil
}

func requestMimetype(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, _, _ = strings.Cut(ct, ";")
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

// queryNames lists parameter names in order, as Python's parse_qsl with
// keep_blank_values reads them (split on '&', name before the first '=',
// '+' is a space, bad escapes kept).
func queryNames(q string) []string {
	var names []string
	for _, part := range strings.Split(q, "&") {
		if part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "=")
		names = appendUnique(names, unquotePlus(name))
	}
	return names
}

func unquotePlus(s string) string {
	s = strings.ReplaceAll(s, "+", " ")
	if u, err := url.PathUnescape(s); err == nil {
		return u
	}
	return s
}

func appendUnique(list []string, items ...string) []string {
	for _, it := range items {
		if !contains(list, it) {
			list = append(list, it)
		}
	}
	return list
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
