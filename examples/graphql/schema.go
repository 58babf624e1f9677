package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	graphql "github.com/graph-gophers/graphql-go"
	"github.com/seed-b2691315/sqlgen/examples/internal/exampledb"
	"github.com/seed-b2691315/sqlgen/live"
	"github.com/seed-b2691315/sqlgen/sqlgen"
)

// sdl is the GraphQL schema, over the tables of package exampledb.
const sdl = `
schema {
	query: Query
	mutation: Mutation
	subscription: Subscription
}

type Query {
	# The organisations, by id; limit is capped at ` + maxOrgsLiteral + `.
	organizations(limit: Int = ` + maxOrgsLiteral + `): [Organization!]!
	user(id: ID!): User
}

type Mutation {
	# Changes the given fields of a user's settings (a JSON column) and
	# returns the user, or null if there is no such user.
	updateUserSettings(id: ID!, settings: SettingsInput!): User
}

type Subscription {
	# The organisation's users, by id: now, then again after every
	# committed change to any of them (an insert, update or delete, a user
	# joining or leaving), whoever made it, from the server's binary log.
	# Needs a server with a binary log; without one, an error.
	users(orgId: ID!): [User!]!
}

type Organization {
	id: ID!
	name: String!
	users: [User!]!
}

type User {
	id: ID!
	name: String!
	email: String
	role: Role!
	settings: Settings!
	organization: Organization!
}

enum Role {
	ADMIN
	MEMBER
	GUEST
}

type Settings {
	theme: String!
	language: String!
	notifications: Boolean!
}

input SettingsInput {
	theme: String
	language: String
	notifications: Boolean
}
`

// maxOrgs caps organizations(limit): it is also the default resolver
// parallelism, so that the users of every listed organisation are read
// in one batch.
const (
	maxOrgs        = 100
	maxOrgsLiteral = "100"
)

// resolver is the root resolver. Every read goes through db with the
// request's context, which carries a batcher (sqlgen.WithBatching): the
// per-parent reads that graphql-go runs in parallel goroutines (one
// Organization.users or User.organization per parent) are merged into one
// IN query per level.
type resolver struct {
	db *sqlgen.DB
	// feed follows the server's binary log for the subscriptions; nil
	// when there is none, and feedErr says why.
	feed    *live.Feed
	feedErr error
}

func parseID(id graphql.ID) (int64, error) {
	n, err := strconv.ParseInt(string(id), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("invalid id %q", id)
	}
	return n, nil
}

func idOf(n int64) graphql.ID { return graphql.ID(strconv.FormatInt(n, 10)) }

func (r *resolver) Organizations(ctx context.Context, args struct{ Limit int32 }) ([]*orgResolver, error) {
	limit := int(args.Limit)
	if limit <= 0 || limit > maxOrgs {
		limit = maxOrgs
	}
	orgs, err := sqlgen.Select[exampledb.Organization](ctx, r.db, nil,
		&sqlgen.SelectOptions{Order: []sqlgen.Order{sqlgen.Asc("id")}, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]*orgResolver, len(orgs))
	for i, o := range orgs {
		out[i] = &orgResolver{r: r, o: o}
	}
	return out, nil
}

func (r *resolver) User(ctx context.Context, args struct{ ID graphql.ID }) (*userResolver, error) {
	id, err := parseID(args.ID)
	if err != nil {
		return nil, err
	}
	u, err := sqlgen.Get[exampledb.User](ctx, r.db, sqlgen.Filter{"id": id}, nil)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &userResolver{r: r, u: u}, nil
}

type settingsInput struct {
	Theme         *string
	Language      *string
	Notifications *bool
}

func (r *resolver) UpdateUserSettings(ctx context.Context, args struct {
	ID       graphql.ID
	Settings settingsInput
}) (*userResolver, error) {
	id, err := parseID(args.ID)
	if err != nil {
		return nil, err
	}
	in := args.Settings
	for name, v := range map[string]*string{"theme": in.Theme, "language": in.Language} {
		if v != nil && (strings.TrimSpace(*v) == "" || len(*v) > 64) {
			return nil, fmt.Errorf("settings.%s must be 1 to 64 characters", name)
		}
	}
	var u *exampledb.User
	// Read and write in one transaction, the row locked, so concurrent
	// updates of different fields of the same document do not lose each
	// other's changes.
	err = r.db.Transact(ctx, func(ctx context.Context) error {
		var err error
		u, err = sqlgen.Get[exampledb.User](ctx, r.db, sqlgen.Filter{"id": id}, &sqlgen.SelectOptions{ForUpdate: true})
		if err != nil {
			return err
		}
		if in.Theme != nil {
			u.Settings.Theme = *in.Theme
		}
		if in.Language != nil {
			u.Settings.Language = *in.Language
		}
		if in.Notifications != nil {
			u.Settings.Notifications = *in.Notifications
		}
		return r.db.UpdateRow(ctx, u)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &userResolver{r: r, u: u}, nil
}

// Users is the subscription users(orgId): live.Watch over the users of the
// organisation. Each result goes out as one answer, sorted by id. A failed
// read or a stopped feed ends the stream, with the error recorded in the
// context's streamEnd (the SSE handler sends it as a last answer):
// subscribing again starts from a fresh read.
func (r *resolver) Users(ctx context.Context, args struct{ OrgID graphql.ID }) (<-chan []*userResolver, error) {
	id, err := parseID(args.OrgID)
	if err != nil {
		return nil, err
	}
	if r.feed == nil {
		return nil, r.feedErr
	}
	end, _ := ctx.Value(streamEndKey{}).(*streamEnd)
	c := make(chan []*userResolver)
	go func() {
		defer close(c)
		for users, err := range live.Watch[exampledb.User](ctx, r.feed, r.db, sqlgen.Filter{"org_id": id}) {
			if err != nil {
				if ctx.Err() == nil && end != nil {
					end.set(fmt.Errorf("users(orgId: %d): %w", id, err))
				}
				return
			}
			slices.SortFunc(users, func(a, b *exampledb.User) int { return cmp.Compare(a.ID, b.ID) })
			out := make([]*userResolver, len(users))
			for i, u := range users {
				out[i] = &userResolver{r: r, u: u}
			}
			select {
			case c <- out:
			case <-ctx.Done():
				return
			}
		}
	}()
	return c, nil
}

type orgResolver struct {
	r *resolver
	o *exampledb.Organization
}

func (o *orgResolver) ID() graphql.ID { return idOf(o.o.ID) }
func (o *orgResolver) Name() string   { return o.o.Name }

// Users reads the organisation's users by org_id. Called once per
// organisation, in parallel; the batcher merges the calls into one
// `org_id` IN (...) statement. A batched read takes no options, so the
// rows are sorted here.
func (o *orgResolver) Users(ctx context.Context) ([]*userResolver, error) {
	var users []*exampledb.User
	if err := o.r.db.Query(ctx, &users, sqlgen.Filter{"org_id": o.o.ID}, nil); err != nil {
		return nil, err
	}
	slices.SortFunc(users, func(a, b *exampledb.User) int { return cmp.Compare(a.ID, b.ID) })
	out := make([]*userResolver, len(users))
	for i, u := range users {
		out[i] = &userResolver{r: o.r, u: u}
	}
	return out, nil
}

type userResolver struct {
	r *resolver
	u *exampledb.User
}

func (u *userResolver) ID() graphql.ID              { return idOf(u.u.ID) }
func (u *userResolver) Name() string                { return u.u.Name }
func (u *userResolver) Email() *string              { return u.u.Email }
func (u *userResolver) Role() string                { return strings.ToUpper(string(u.u.Role)) }
func (u *userResolver) Settings() *settingsResolver { return &settingsResolver{u.u.Settings} }

// Organization reads the user's organisation by id: batched across users
// like Organization.users.
func (u *userResolver) Organization(ctx context.Context) (*orgResolver, error) {
	o, err := sqlgen.Get[exampledb.Organization](ctx, u.r.db, sqlgen.Filter{"id": u.u.OrgID}, nil)
	if err != nil {
		return nil, err
	}
	return &orgResolver{r: u.r, o: o}, nil
}

type settingsResolver struct{ s exampledb.Settings }

func (s *settingsResolver) Theme() string       { return s.s.Theme }
func (s *settingsResolver) Language() string    { return s.s.Language }
func (s *settingsResolver) Notifications() bool { return s.s.Notifications }
