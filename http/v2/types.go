package v2

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The attribute types below reproduce wsme's two steps on a request body:
// convert (wsme's fromjson: Python's int(), float(), bool parsing; a
// failure is a ValueError reported for the whole argument) then validate
// (wsme's validate_value on attribute assignment: ranges, lengths, formats;
// a failure is reported for the attribute). A JSON null skips both, as in
// wsme.

type attrType interface {
	convert(v any) (any, error)
	validate(v any) (any, error)
}

// valueError is a Python ValueError (or TypeError) raised while
// converting: wsme reports it against the whole request argument.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

// invalidInput is wsme's InvalidInput for one attribute.
type invalidInput struct {
	field string
	value any
	msg   string
}

func (e *invalidInput) Error() string {
	return fmt.Sprintf("Invalid input for field/attribute %s. Value: '%s'. %s", e.field, pyStr(e.value), e.msg)
}

// unknownAttribute is wsme's UnknownAttribute; path grows outward as the
// error crosses enclosing objects.
type unknownAttribute struct {
	path  []string
	names []string
}

func (e *unknownAttribute) Error() string {
	f := "Unknown attribute for argument %s: %s"
	if len(e.names) > 1 {
		f = "Unknown attributes for argument %s: %s"
	}
	return fmt.Sprintf(f, strings.Join(e.path, "."), strings.Join(e.names, ", "))
}

// notObject: an object was expected (Octavia fails with a 500 there; we
// answer 400 naming the attribute).
type notObject struct{}

func (notObject) Error() string { return "Value should be a JSON object" }

func validationError(msg string) error { return &valueError{msg: msg} }

func pyTypeName(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case *object:
		return "dict"
	case string:
		return "str"
	case bool:
		return "bool"
	case nil:
		return "NoneType"
	}
	return "float"
}

// --- strings ------------------------------------------------------------

// strType is wtypes.StringType.
type strType struct {
	min, max int // 0 = no bound
	pattern  *regexp.Regexp
	pyRegex  string // the pattern as Octavia writes it, for messages
	check    func(string) bool
}

func (t strType) convert(v any) (any, error) { return v, nil }

func (t strType) validate(v any) (any, error) {
	s, ok := v.(string)
	if !ok {
		return nil, validationError("Value should be string")
	}
	n := utf8.RuneCountInString(s)
	if t.min > 0 && n < t.min {
		return nil, validationError(fmt.Sprintf("Value should have a minimum character requirement of %d", t.min))
	}
	if t.max > 0 && n > t.max {
		return nil, validationError(fmt.Sprintf("Value should have a maximum character requirement of %d", t.max))
	}
	if (t.pattern != nil && !t.pattern.MatchString(s)) || (t.check != nil && !t.check(s)) {
		return nil, validationError("Value should match the pattern " + t.pyRegex)
	}
	return s, nil
}

// enumType is wtypes.Enum(str, ...). Octavia lists the values of a Python
// set (random order); we list them in declaration order.
type enumType struct{ values []string }

func (t enumType) convert(v any) (any, error) { return v, nil }

func (t enumType) validate(v any) (any, error) {
	switch v.(type) {
	case []any, *object:
		return nil, validationError(fmt.Sprintf("unhashable type: '%s'", pyTypeName(v)))
	}
	if s, ok := v.(string); ok {
		for _, e := range t.values {
			if s == e {
				return s, nil
			}
		}
	}
	return nil, validationError("Value should be one of: " + strings.Join(t.values, ", "))
}

// uuidType is wtypes.UuidType: accepts what Python's uuid.UUID accepts and
// normalizes to the lowercase dashed form.
type uuidType struct{}

func (uuidType) convert(v any) (any, error) { return v, nil }

func (uuidType) validate(v any) (any, error) {
	if s, ok := v.(string); ok {
		if u, ok := normalizeUUID(s); ok {
			return u, nil
		}
	}
	return nil, validationError("Value should be UUID format")
}

func normalizeUUID(s string) (string, bool) {
	h := strings.ReplaceAll(strings.ReplaceAll(s, "urn:", ""), "uuid:", "")
	h = strings.ReplaceAll(strings.Trim(h, "{}"), "-", "")
	if len(h) != 32 {
		return "", false
	}
	for _, c := range h {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return "", false
		}
	}
	h = strings.ToLower(h)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// ipType is Octavia's IPAddressType (value kept as given).
type ipType struct{}

func (ipType) convert(v any) (any, error) { return v, nil }

func (ipType) validate(v any) (any, error) {
	if s, ok := v.(string); ok {
		if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
			return s, nil
		}
	}
	return nil, validationError("Value should be IPv4 or IPv6 format")
}

// cidrType is Octavia's CidrType: Python's ip_network(value, strict=False),
// normalized to its network address and prefix length.
type cidrType struct{}

func (cidrType) convert(v any) (any, error) { return v, nil }

func (cidrType) validate(v any) (any, error) {
	if s, ok := v.(string); ok {
		if p, ok := parseCIDR(s); ok {
			return p.String(), nil
		}
	}
	return nil, validationError("Value should be IPv4 or IPv6 CIDR format")
}

func parseCIDR(s string) (netip.Prefix, bool) {
	addrPart, maskPart, hasMask := strings.Cut(s, "/")
	a, err := netip.ParseAddr(addrPart)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	bits := a.BitLen()
	if hasMask {
		bits = -1
		if maskPart != "" && strings.Trim(maskPart, "0123456789") == "" {
			if n, err := strconv.Atoi(maskPart); err == nil && n <= a.BitLen() {
				bits = n
			}
		} else if a.Is4() {
			bits = netmaskBits(maskPart)
		}
		if bits < 0 {
			return netip.Prefix{}, false
		}
	}
	p, err := a.Prefix(bits)
	return p, err == nil
}

// netmaskBits reads an IPv4 netmask (255.255.255.0) or hostmask (0.0.0.255).
func netmaskBits(s string) int {
	m, err := netip.ParseAddr(s)
	if err != nil || !m.Is4() {
		return -1
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	for _, x := range []uint32{v, ^v} {
		ones := 0
		for ones < 32 && x&(1<<(31-ones)) != 0 {
			ones++
		}
		if x<<ones == 0 || ones == 32 {
			return ones
		}
	}
	return -1
}

// urlPathType is Octavia's URLPathType (validate.url_path): an absolute
// path without whitespace, scheme, authority. Control characters are
// refused too: they would reach HAProxy's configuration.
type urlPathType struct{}

func (urlPathType) convert(v any) (any, error) { return v, nil }

func (urlPathType) validate(v any) (any, error) {
	s, ok := v.(string)
	if ok && strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") &&
		strings.IndexFunc(s, func(r rune) bool { return pyIsSpace(r) || unicode.IsControl(r) }) < 0 {
		return s, nil
	}
	return nil, validationError("Value must be a valid URL Path string")
}

// pyIsSpace is Python's \s for str patterns.
func pyIsSpace(r rune) bool { return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f) }

// alpnType is Octavia's AlpnProtocolType.
type alpnType struct{}

func (alpnType) convert(v any) (any, error) { return v, nil }

func (alpnType) validate(v any) (any, error) {
	if s, ok := v.(string); ok {
		for _, p := range supportedALPN {
			if s == p {
				return s, nil
			}
		}
	}
	return nil, validationError("Value should be a valid ALPN protocol ID")
}

// --- numbers and booleans ------------------------------------------------

// intType is wtypes.IntegerType. Without an explicit bound the database's
// 32-bit column is the bound (Octavia fails with a 500 beyond it).
type intType struct{ min, max *int64 }

func bound(n int64) *int64 { return &n }

func (t intType) convert(v any) (any, error) { return pyInt(v) }

func (t intType) validate(v any) (any, error) {
	n, ok := v.(*big.Int)
	if !ok {
		return nil, validationError("Value should be an integer")
	}
	lo, hi := int64(math.MinInt32), int64(math.MaxInt32)
	if t.min != nil {
		lo = *t.min
	}
	if t.max != nil {
		hi = *t.max
	}
	if n.Cmp(big.NewInt(lo)) < 0 {
		return nil, validationError(fmt.Sprintf("Value should be greater or equal to %d", lo))
	}
	if n.Cmp(big.NewInt(hi)) > 0 {
		return nil, validationError(fmt.Sprintf("Value should be lower or equal to %d", hi))
	}
	return int(n.Int64()), nil
}

// pyInt is Python's int(v) on a JSON value.
func pyInt(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		if x {
			return big.NewInt(1), nil
		}
		return big.NewInt(0), nil
	case json.Number:
		if isIntNumber(x) {
			n, ok := new(big.Int).SetString(string(x), 10)
			if !ok {
				return nil, &valueError{msg: "invalid literal for int() with base 10: " + pyStrRepr(string(x))}
			}
			return n, nil
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, &valueError{msg: "cannot convert float infinity to integer"}
		}
		n, _ := big.NewFloat(math.Trunc(f)).Int(nil)
		return n, nil
	case string:
		s := strings.TrimFunc(x, pyIsSpace)
		if n, ok := parsePyIntLiteral(s); ok {
			return n, nil
		}
		return nil, &valueError{msg: "invalid literal for int() with base 10: " + pyStrRepr(x)}
	default:
		return nil, &valueError{msg: fmt.Sprintf("int() argument must be a string, a bytes-like object or a real number, not '%s'", pyTypeName(v))}
	}
}

// parsePyIntLiteral: optional sign, ASCII digits, single underscores
// between digits.
func parsePyIntLiteral(s string) (*big.Int, bool) {
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" || body[0] == '_' || body[len(body)-1] == '_' || strings.Contains(body, "__") {
		return nil, false
	}
	digits := strings.ReplaceAll(body, "_", "")
	if strings.Trim(digits, "0123456789") != "" {
		return nil, false
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if ok && strings.HasPrefix(s, "-") {
		n.Neg(n)
	}
	return n, ok
}

// floatEnumType is wtypes.Enum(float, ...): Python's float() then
// membership.
type floatEnumType struct{ values []float64 }

func (t floatEnumType) convert(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		if x {
			return 1.0, nil
		}
		return 0.0, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return math.Inf(1), nil
		}
		return f, nil
	case string:
		s := strings.ReplaceAll(strings.TrimFunc(x, pyIsSpace), "_", "")
		bad := &valueError{msg: "could not convert string to float: " + pyStrRepr(x)}
		if strings.HasPrefix(strings.ToLower(strings.TrimLeft(s, "+-")), "0x") {
			return nil, bad
		}
		f, err := strconv.ParseFloat(s, 64)
		if ne, ok := err.(*strconv.NumError); ok && ne.Err != strconv.ErrRange {
			return nil, bad
		}
		return f, nil
	default:
		return nil, &valueError{msg: fmt.Sprintf("float() argument must be a string or a real number, not '%s'", pyTypeName(v))}
	}
}

func (t floatEnumType) validate(v any) (any, error) {
	f, _ := v.(float64)
	parts := make([]string, len(t.values))
	for i, e := range t.values {
		if f == e {
			return f, nil
		}
		parts[i] = pyFloatRepr(e)
	}
	return nil, validationError("Value should be one of: " + strings.Join(parts, ", "))
}

var (
	enumTrue  = []string{"true", "t", "yes", "y", "on", "1"}
	enumFalse = []string{"false", "f", "no", "n", "off", "0"}
)

// boolType is wsme's bool_fromjson: ints and booleans by truth, a few
// exact strings, anything else a ValueError.
type boolType struct{}

func (boolType) convert(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return x, nil
	case json.Number:
		if isIntNumber(x) {
			n, ok := new(big.Int).SetString(string(x), 10)
			return ok && n.Sign() != 0, nil
		}
	case string:
		for _, s := range enumTrue {
			if x == s {
				return true, nil
			}
		}
		for _, s := range enumFalse {
			if x == s {
				return false, nil
			}
		}
	}
	return nil, &valueError{msg: "Value not an unambiguous boolean: " + pyStr(v)}
}

func (boolType) validate(v any) (any, error) { return v, nil }

// --- containers --------------------------------------------------------

// listType is wsme's ArrayType.
type listType struct{ item attrType }

func (t listType) convert(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, &valueError{msg: "Value not a valid list: " + pyStr(v)}
	}
	out := make([]any, len(list))
	for i, e := range list {
		c, err := t.item.convert(e)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func (t listType) validate(v any) (any, error) {
	list := v.([]any)
	out := make([]any, len(list))
	for i, e := range list {
		if e == nil { // Octavia would store a null item and fail later
			_, err := t.item.validate(nil)
			if err == nil {
				err = validationError("Value should not be null")
			}
			return nil, err
		}
		c, err := t.item.validate(e)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// stringMap is a validated wsme DictType(str, ...) value in key order.
type stringMap struct {
	keys []string
	vals map[string]any
}

// dictType is wsme's DictType(str, value).
type dictType struct{ value attrType }

func (t dictType) convert(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	o, ok := v.(*object)
	if !ok {
		return nil, &valueError{msg: "Value not a valid dict: " + pyStr(v)}
	}
	m := stringMap{keys: append([]string(nil), o.keys...), vals: map[string]any{}}
	for _, k := range o.keys {
		c, err := t.value.convert(o.vals[k])
		if err != nil {
			return nil, err
		}
		m.vals[k] = c
	}
	return m, nil
}

func (t dictType) validate(v any) (any, error) {
	m := v.(stringMap)
	out := stringMap{keys: m.keys, vals: map[string]any{}}
	for _, k := range m.keys {
		c, err := t.value.validate(m.vals[k])
		if err != nil {
			return nil, err
		}
		out.vals[k] = c
	}
	return out, nil
}

// rawType accepts any JSON value of the given kind unchecked (for nested
// objects we refuse later as unsupported).
type rawType struct{ list bool }

func (t rawType) convert(v any) (any, error) {
	if t.list && v != nil {
		if _, ok := v.([]any); !ok {
			return nil, &valueError{msg: "Value not a valid list: " + pyStr(v)}
		}
	}
	return v, nil
}

func (rawType) validate(v any) (any, error) { return v, nil }
