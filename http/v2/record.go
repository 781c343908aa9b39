package v2

// attr is one attribute of a request type, in Octavia's declaration order
// (wsme reports the first failing attribute in that order).
type attr struct {
	name      string
	typ       attrType
	mandatory bool
	// alias: wsme's tenant_id property, which sets project_id (validated,
	// and reported, as project_id).
	alias string
}

// complexType is a wsme complex type (a request object).
type complexType struct {
	attrs []attr
}

func (t *complexType) lookup(name string) (attr, bool) {
	for _, a := range t.attrs {
		if a.name == name {
			return a, true
		}
	}
	return attr{}, false
}

// convert is wsme's fromjson for a complex type: unknown attributes first,
// then each attribute in order (absent mandatory ones refused).
func (t *complexType) convert(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	o, ok := v.(*object)
	if !ok {
		return nil, notObject{}
	}
	var unknown []string
	for _, k := range o.keys {
		if _, ok := t.lookup(k); !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		return nil, &unknownAttribute{names: unknown}
	}
	rec := &record{vals: map[string]any{}}
	for _, a := range t.attrs {
		raw, present := o.get(a.name)
		if !present {
			if a.mandatory {
				return nil, &invalidInput{field: a.name, value: nil, msg: "Mandatory field missing."}
			}
			continue
		}
		target, typ := a.name, a.typ
		if a.alias != "" {
			target = a.alias
			if al, ok := t.lookup(a.alias); ok {
				typ = al.typ
			}
		}
		c, err := typ.convert(raw)
		switch e := err.(type) {
		case nil:
		case *unknownAttribute:
			e.path = append([]string{a.name}, e.path...)
			return nil, e
		case notObject:
			return nil, &invalidInput{field: a.name, value: raw, msg: e.Error()}
		default:
			return nil, err
		}
		if c != nil {
			nv, err := typ.validate(c)
			if err != nil {
				return nil, &invalidInput{field: target, value: c, msg: err.Error()}
			}
			c = nv
		}
		rec.set(target, c)
	}
	return rec, nil
}

func (t *complexType) validate(v any) (any, error) { return v, nil }

// record is a decoded request object: the attributes the body set, converted
// and validated. A present attribute with a nil value was a JSON null (a PUT
// clears it); an absent one was not sent (a PUT keeps it).
type record struct {
	order []string
	vals  map[string]any
}

func (r *record) set(k string, v any) {
	if _, ok := r.vals[k]; !ok {
		r.order = append(r.order, k)
	}
	r.vals[k] = v
}

func (r *record) has(k string) bool {
	if r == nil {
		return false
	}
	_, ok := r.vals[k]
	return ok
}

// null: sent as JSON null.
func (r *record) null(k string) bool { return r.has(k) && r.vals[k] == nil }

// str is a string attribute (nil when absent or null).
func (r *record) str(k string) *string {
	if r == nil {
		return nil
	}
	if s, ok := r.vals[k].(string); ok {
		return &s
	}
	return nil
}

// strOr is a string attribute or def when absent or null.
func (r *record) strOr(k, def string) string {
	if s := r.str(k); s != nil {
		return *s
	}
	return def
}

func (r *record) integer(k string) *int {
	if r == nil {
		return nil
	}
	if n, ok := r.vals[k].(int); ok {
		return &n
	}
	return nil
}

func (r *record) intOr(k string, def int) int {
	if n := r.integer(k); n != nil {
		return *n
	}
	return def
}

func (r *record) float(k string) *float64 {
	if r == nil {
		return nil
	}
	if f, ok := r.vals[k].(float64); ok {
		return &f
	}
	return nil
}

// boolOr is a boolean attribute: def when absent; a JSON null is false
// (Octavia's to_dict turns a null admin_state_up into False).
func (r *record) boolOr(k string, def bool) bool {
	if !r.has(k) {
		return def
	}
	b, _ := r.vals[k].(bool)
	return b
}

// strings is a list-of-strings attribute (nil when absent or null).
func (r *record) strings(k string) []string {
	if r == nil {
		return nil
	}
	list, ok := r.vals[k].([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// stringMap is a dict attribute (nil when absent or null).
func (r *record) stringMap(k string) map[string]string {
	if r == nil {
		return nil
	}
	m, ok := r.vals[k].(stringMap)
	if !ok {
		return nil
	}
	out := make(map[string]string, len(m.keys))
	for _, key := range m.keys {
		s, _ := m.vals[key].(string)
		out[key] = s
	}
	return out
}

// sub is a nested object attribute (nil when absent or null).
func (r *record) sub(k string) *record {
	if r == nil {
		return nil
	}
	s, _ := r.vals[k].(*record)
	return s
}

// records is a list-of-objects attribute.
func (r *record) records(k string) []*record {
	if r == nil {
		return nil
	}
	list, _ := r.vals[k].([]any)
	out := make([]*record, 0, len(list))
	for _, e := range list {
		if s, ok := e.(*record); ok {
			out = append(out, s)
		}
	}
	return out
}

// raw is the attribute's value as decoded (for lists of unsupported objects).
func (r *record) raw(k string) any {
	if r == nil {
		return nil
	}
	return r.vals[k]
}

// jsonValue is the attribute's validated value as encodable JSON, for a
// PUT's patch.
func (r *record) jsonValue(k string) any { return plain(r.vals[k]) }

func plain(v any) any {
	switch x := v.(type) {
	case *record:
		m := make(map[string]any, len(x.order))
		for _, k := range x.order {
			m[k] = plain(x.vals[k])
		}
		return m
	case stringMap:
		m := make(map[string]any, len(x.keys))
		for _, k := range x.keys {
			m[k] = plain(x.vals[k])
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case *object:
		return toJSON(x)
	default:
		return v
	}
}

// mapKeys are a dict attribute's keys in the order sent.
func (r *record) mapKeys(k string) []string {
	if r == nil {
		return nil
	}
	m, _ := r.vals[k].(stringMap)
	return m.keys
}
