package events

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// schemaGen writes JSON Schemas (draft 2020-12) of Go types by reflection,
// as encoding/json marshals them: a field without omitempty is always
// present (required); a pointer, a slice and a map may be null (nil); a
// named struct becomes a definition in defs, referenced as #/$defs/Name.
// Descriptions come from the package's doc comments.
type schemaGen struct {
	defs map[string]any
	docs docComments
}

func newSchemaGen(docs docComments) *schemaGen { return &schemaGen{defs: map[string]any{}, docs: docs} }

var (
	timeType = reflect.TypeOf(time.Time{})
	rawType  = reflect.TypeOf(json.RawMessage{})
)

// object is the schema of a struct type's fields.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := g.schema(f.Type)
		if d := g.docs.field(t.Name(), f.Name); d != "" {
			s = withDescription(s, d)
		}
		props[name] = s
		if !slices.Contains(strings.Split(opts, ","), "omitempty") {
			required = append(required, name)
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// schema is the schema of a value of type t.
func (g *schemaGen) schema(t reflect.Type) map[string]any {
	switch {
	case t == timeType:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawType:
		return map[string]any{}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.schema(t.Elem()))
	case reflect.Slice:
		return nullable(map[string]any{"type": "array", "items": g.schema(t.Elem())})
	case reflect.Map:
		return nullable(map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())})
	case reflect.Struct:
		if _, ok := g.defs[t.Name()]; !ok {
			g.defs[t.Name()] = nil // recursion guard
			def := g.object(t)
			if d := g.docs.typ(t.Name()); d != "" {
				def["description"] = d
			}
			g.defs[t.Name()] = def
		}
		return map[string]any{"$ref": "#/$defs/" + t.Name()}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	}
	panic(fmt.Sprintf("jsonschema: no schema for %s", t))
}

// nullable lets s be null as well.
func nullable(s map[string]any) map[string]any {
	if typ, ok := s["type"].(string); ok {
		out := map[string]any{}
		for k, v := range s {
			out[k] = v
		}
		out["type"] = []string{typ, "null"}
		return out
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

// withDescription adds a description (beside a $ref it is allowed in 2020-12).
func withDescription(s map[string]any, d string) map[string]any {
	out := map[string]any{}
	for k, v := range s {
		out[k] = v
	}
	out["description"] = d
	return out
}

// docComments are the doc comments of a package's types and fields.
type docComments map[string]string

func (d docComments) typ(name string) string         { return d[name] }
func (d docComments) field(typ, field string) string { return d[typ+"."+field] }

// readDocComments parses the Go files (not tests) of dir.
func readDocComments(dir string) (docComments, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	d := docComments{}
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && len(gd.Specs) == 1 {
					doc = gd.Doc
				}
				if doc != nil {
					d[ts.Name.Name] = oneLine(doc.Text())
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, field := range st.Fields.List {
					c := field.Doc
					if c == nil {
						c = field.Comment
					}
					if c == nil {
						continue
					}
					for _, n := range field.Names {
						d[ts.Name.Name+"."+n.Name] = oneLine(c.Text())
					}
				}
			}
		}
	}
	return d, nil
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// validate checks v (decoded JSON) against the subset of JSON Schema the
// generator writes, resolving #/$defs/ references in defs. It returns the
// first problem found, with the path where.
func validate(s map[string]any, v any, defs map[string]any, path string) error {
	if ref, ok := s["$ref"].(string); ok {
		def, ok := defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		if !ok {
			return fmt.Errorf("%s: unresolved %s", path, ref)
		}
		return validate(def, v, defs, path)
	}
	if anyOf, ok := s["anyOf"].([]any); ok {
		var errs []string
		for _, alt := range anyOf {
			err := validate(alt.(map[string]any), v, defs, path)
			if err == nil {
				return nil
			}
			errs = append(errs, err.Error())
		}
		return fmt.Errorf("%s: no alternative matches: %s", path, strings.Join(errs, "; "))
	}
	var types []string
	switch typ := s["type"].(type) {
	case string:
		types = []string{typ}
	case []string:
		types = typ
	case []any:
		for _, t := range typ {
			types = append(types, t.(string))
		}
	case nil:
		return nil // {}: anything
	}
	if !slices.Contains(types, jsonType(v)) && !(jsonType(v) == "integer" && slices.Contains(types, "number")) {
		return fmt.Errorf("%s: %s, want %v", path, jsonType(v), types)
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		for _, r := range anyStrings(s["required"]) {
			if _, ok := v[r]; !ok {
				return fmt.Errorf("%s: %q missing", path, r)
			}
		}
		for k, val := range v {
			ps, ok := props[k].(map[string]any)
			if !ok {
				ps, _ = s["additionalProperties"].(map[string]any)
			}
			if ps != nil {
				if err := validate(ps, val, defs, path+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		items, _ := s["items"].(map[string]any)
		for i, val := range v {
			if err := validate(items, val, defs, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case string:
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
				return fmt.Errorf("%s: %q is no date-time", path, v)
			}
		}
	}
	return nil
}

func anyStrings(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []any:
		out := make([]string, len(v))
		for i, s := range v {
			out[i], _ = s.(string)
		}
		return out
	}
	return nil
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// fill returns a value of t with every field set (pointers, slices and maps
// non-empty), seeded by n so values differ.
func fill(t reflect.Type, n int) reflect.Value {
	v := reflect.New(t).Elem()
	switch {
	case t == timeType:
		v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, n, time.UTC)))
		return v
	case t == rawType:
		v.SetBytes([]byte(`{"any": "thing"}`))
		return v
	}
	switch t.Kind() {
	case reflect.Pointer:
		v.Set(fill(t.Elem(), n).Addr())
	case reflect.Slice:
		v.Set(reflect.Append(reflect.MakeSlice(t, 0, 1), fill(t.Elem(), n+1)))
	case reflect.Map:
		m := reflect.MakeMap(t)
		m.SetMapIndex(fill(t.Key(), n+1), fill(t.Elem(), n+2))
		v.Set(m)
	case reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				v.Field(i).Set(fill(t.Field(i).Type, n+i))
			}
		}
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(n + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(n) + 0.5)
	}
	return v
}

// TestSchemasValidateEvents: every payload, filled or zero, validates
// against its generated schema; a payload missing a required field or with
// a field of the wrong type does not.
func TestSchemasValidateEvents(t *testing.T) {
	docs, err := readDocComments(".")
	if err != nil {
		t.Fatal(err)
	}
	g := newSchemaGen(docs)
	envSchema := g.object(reflect.TypeOf(Envelope{}))
	for _, r := range allEvents() {
		typ := reflect.TypeOf(r.event)
		s := g.object(typ)
		for name, value := range map[string]any{"zero": r.event, "filled": fill(typ, 0).Interface()} {
			data, err := json.Marshal(value)
			if err != nil {
				t.Fatal(err)
			}
			var doc any
			_ = json.Unmarshal(data, &doc)
			if err := validate(s, doc, g.defs, r.event.EventType()); err != nil {
				t.Errorf("%s %s: %v\n%s", r.event.EventType(), name, err, data)
			}
			env := Envelope{ID: "e", Stream: "loadbalancer-x", Version: 1, Position: 1, Type: r.event.EventType(),
				SchemaVersion: r.schemaVersion, Time: time.Now(), Data: data}
			envData, _ := json.Marshal(env)
			var envDoc any
			_ = json.Unmarshal(envData, &envDoc)
			if err := validate(envSchema, envDoc, g.defs, "envelope"); err != nil {
				t.Errorf("envelope of %s: %v", r.event.EventType(), err)
			}
			obj, _ := doc.(map[string]any)
			for _, req := range anyStrings(s["required"]) {
				broken := map[string]any{}
				for k, v := range obj {
					if k != req {
						broken[k] = v
					}
				}
				if validate(s, broken, g.defs, "") == nil {
					t.Errorf("%s without %q validates", r.event.EventType(), req)
				}
				broken[req] = map[string]any{"not": "this"}
				if validate(s, broken, g.defs, "") == nil {
					t.Errorf("%s with an object as %q validates", r.event.EventType(), req)
				}
			}
		}
	}
	if d := docs.typ("ConfigurationApplied"); !strings.HasPrefix(d, "ConfigurationApplied: the amphora driver pushed") {
		t.Errorf("doc comment of ConfigurationApplied: %q", d)
	}
	if d := docs.field("Amphora", "AgentPort"); !strings.Contains(d, "agent's API port") {
		t.Errorf("doc comment of Amphora.AgentPort: %q", d)
	}
}

func TestReadDocCommentsErrors(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.go"), []byte("package x\ntype T struct {"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readDocComments(dir); err == nil {
		t.Error("a file that does not parse was accepted")
	}
}
