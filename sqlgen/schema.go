package sqlgen

import (
	"fmt"
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/seed-b2691315/sqlgen/fields"
)

// PrimaryKeyType says how a table's primary key gets its values.
type PrimaryKeyType int

const (
	// AutoIncrement: one integer primary-key column whose value the server
	// assigns. InsertRow leaves the column out when the field is zero and
	// writes the new id back into it. Upserts are refused.
	AutoIncrement PrimaryKeyType = iota + 1
	// UniqueID: the primary key (one or several columns) is set by the
	// application.
	UniqueID

	// UniqueId is the former name of UniqueID.
	//
	// Deprecated: use UniqueID.
	UniqueId = UniqueID
)

func (p PrimaryKeyType) String() string {
	switch p {
	case AutoIncrement:
		return "AutoIncrement"
	case UniqueID:
		return "UniqueID"
	}
	return fmt.Sprintf("PrimaryKeyType(%d)", int(p))
}

// Schema maps Go struct types to tables. Register every type once, at
// start-up, with [Schema.RegisterType]; after that a Schema is read-only in
// practice and safe for concurrent use (registration itself is also safe
// to run concurrently with queries).
type Schema struct {
	mu    sync.Mutex               // serialises registration
	reg   atomic.Pointer[registry] // copy-on-write: readers never lock
	codec fields.Codec

	// recent holds the first few types looked up, compared before the
	// registry's map is hashed. Each slot is written once; a type is never
	// registered again, so an entry never goes stale.
	recent [4]atomic.Pointer[typeEntry]
	// recentPtr is recent for the writes' row argument, by the type word
	// of the interface holding a *T: one compare, no reflection.
	recentPtr [4]atomic.Pointer[ptrEntry]
}

type ptrEntry struct {
	ptrType unsafe.Pointer // the type word of an interface holding a *T
	t       *table
}

type typeEntry struct {
	typ reflect.Type
	t   *table
}

type registry struct {
	byName map[string]*table
	byType map[reflect.Type]*table
}

// SchemaOption configures a [Schema].
type SchemaOption func(*Schema)

// WithCodec sets the codec used for the schema's JSON columns (the default
// is encoding/json). It applies to types registered after it.
func WithCodec(c fields.Codec) SchemaOption {
	return func(s *Schema) { s.codec = c }
}

// NewSchema returns an empty schema.
func NewSchema(opts ...SchemaOption) *Schema {
	s := &Schema{codec: fields.JSONCodec{}}
	for _, o := range opts {
		o(s)
	}
	s.reg.Store(&registry{byName: map[string]*table{}, byType: map[reflect.Type]*table{}})
	return s
}

// RegisterType maps the struct type of value (a struct or a pointer to one)
// to the table named table. Every exported field is a column unless tagged
// `sql:"-"`; see the package documentation for the tag syntax and naming
// rules. A type that cannot be mapped (an unsupported field type, an
// unknown tag option, a duplicate column, no primary key, a table or type
// registered twice) is an error wrapping [ErrBadSchema] that names the
// struct and field.
func (s *Schema) RegisterType(table string, pk PrimaryKeyType, value any) error {
	t, err := newTable(table, pk, value, s.codec)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.reg.Load()
	if prev, ok := old.byName[table]; ok {
		return fmt.Errorf("table %q is registered already, for type %v (now asked for %v): %w", table, prev.typ, t.typ, ErrBadSchema)
	}
	if prev, ok := old.byType[t.typ]; ok {
		return fmt.Errorf("type %v is registered already, as table %q: %w", t.typ, prev.name, ErrBadSchema)
	}
	next := &registry{byName: maps.Clone(old.byName), byType: maps.Clone(old.byType)}
	next.byName[table] = t
	next.byType[t.typ] = t
	s.reg.Store(next)
	return nil
}

// MustRegisterType is like [Schema.RegisterType] but panics on error, for
// package-level set-up.
func (s *Schema) MustRegisterType(table string, pk PrimaryKeyType, value any) {
	if err := s.RegisterType(table, pk, value); err != nil {
		panic(err)
	}
}

// Tables returns the names of the registered tables, in no particular
// order.
func (s *Schema) Tables() []string {
	reg := s.reg.Load()
	names := make([]string, 0, len(reg.byName))
	for n := range reg.byName {
		names = append(names, n)
	}
	return names
}

// tableByType returns the table registered for struct type t.
func (s *Schema) tableByType(t reflect.Type) (*table, error) {
	for i := range s.recent {
		e := s.recent[i].Load()
		if e == nil {
			break
		}
		if e.typ == t {
			return e.t, nil
		}
	}
	if tb, ok := s.reg.Load().byType[t]; ok {
		for i := range s.recent {
			if s.recent[i].Load() == nil {
				// Only an empty slot costs an allocation: at most four,
				// ever. Losing the race to another type is harmless.
				s.recent[i].CompareAndSwap(nil, &typeEntry{t, tb})
				break
			}
		}
		return tb, nil
	}
	return nil, fmt.Errorf("type %v: %w (call RegisterType first)", t, ErrNotRegistered)
}

// tableByName returns the table registered under name.
func (s *Schema) tableByName(name string) (*table, error) {
	if tb, ok := s.reg.Load().byName[name]; ok {
		return tb, nil
	}
	return nil, fmt.Errorf("table %q: %w", name, ErrNotRegistered)
}

// structPtr checks that v, the row argument of method, is a non-nil
// pointer to a registered struct and returns its table and the struct
// value.
func (s *Schema) structPtr(v any, method string) (*table, reflect.Value, error) {
	e := (*[2]unsafe.Pointer)(unsafe.Pointer(&v))
	if e[1] != nil {
		for i := range s.recentPtr {
			pe := s.recentPtr[i].Load()
			if pe == nil {
				break
			}
			if pe.ptrType == e[0] {
				return pe.t, reflect.ValueOf(v).Elem(), nil
			}
		}
	}
	t, sv, err := s.structPtrSlow(v, method)
	if err == nil {
		for i := range s.recentPtr {
			if pe := s.recentPtr[i].Load(); pe == nil {
				// At most four allocations, ever; losing the race to
				// another type is harmless.
				s.recentPtr[i].CompareAndSwap(nil, &ptrEntry{e[0], t})
				break
			} else if pe.ptrType == e[0] {
				break
			}
		}
	}
	return t, sv, err
}

// cachedRow returns the table of v, a non-nil *T whose type structPtr has
// already seen, and the struct's address; nil for anything else (which
// structPtr then checks).
func (s *Schema) cachedRow(v any) (*table, unsafe.Pointer) {
	e := (*[2]unsafe.Pointer)(unsafe.Pointer(&v))
	if e[1] == nil {
		return nil, nil
	}
	for i := range s.recentPtr {
		pe := s.recentPtr[i].Load()
		if pe == nil {
			break
		}
		if pe.ptrType == e[0] {
			return pe.t, e[1]
		}
	}
	return nil, nil
}

// structPtrSlow is structPtr through reflection.
func (s *Schema) structPtrSlow(v any, method string) (*table, reflect.Value, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.Type().Elem().Kind() != reflect.Struct {
		return nil, reflect.Value{}, fmt.Errorf("%s: row must be a pointer to a registered struct, not %v: %w", method, typeOf(v), ErrInvalidArgument)
	}
	if rv.IsNil() {
		return nil, reflect.Value{}, fmt.Errorf("%s: row is a nil %v: %w", method, typeOf(v), ErrInvalidArgument)
	}
	t, err := s.tableByType(rv.Type().Elem())
	if err != nil {
		return nil, reflect.Value{}, err
	}
	return t, rv.Elem(), nil
}
