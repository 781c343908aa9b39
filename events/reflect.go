package events

import "reflect"

// newOfSameType returns a pointer to a new zero value of proto's type, for
// json.Unmarshal. Payload types are registered as values.
func newOfSameType(proto Event) Event {
	t := reflect.TypeOf(proto)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return reflect.New(t).Interface().(Event)
}

// derefEvent turns the pointer built by newOfSameType back into a value, so
// that consumers switch on value types (case events.ListenerCreated:).
func derefEvent(e Event) Event {
	v := reflect.ValueOf(e)
	if v.Kind() == reflect.Pointer {
		return v.Elem().Interface().(Event)
	}
	return e
}
