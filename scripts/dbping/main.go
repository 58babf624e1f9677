package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"time"

	"github.com/go-sql-driver/mysql"
)

const defaultDSN = "root@tcp(127.0.0.1:3306)/"

func main() {
	dsn := os.Getenv("SQLGEN_TEST_DSN")
	if dsn == "" {
		dsn = defaultDSN
	}
	if err := ping(dsn); err != nil {
		fmt.Fprintln(os.Stderr, "dbping:", err)
		os.Exit(1)
	}
	fmt.Println("dbping: ok")
}

func ping(dsn string) error {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return err
	}
	cfg.DBName = ""
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		return err
	}
	db := sql.OpenDB(conn)
	defer db.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}
