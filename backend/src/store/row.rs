//! Reading a row by column name into any type that derives `serde::Deserialize`: a struct takes
//! each field from the column of the same name (`AS` names the column when the SQL must), a
//! single value (`i64`, `String`, `Option<DateTime<Utc>>`, a newtype id) comes from a one-column
//! row. A row is never read by position: a struct with a field the SELECT lacks fails with the
//! field's name, and a two-column row read as one value fails too.
//!
//! Why serde and not sqlx's `FromRow` derive: the derive compiles sqlx's query macros and both
//! drivers a second time for the build host (minutes on two cores), and a type read from both
//! databases would need two implementations. Serde's derive is already in every build, reads
//! enums stored as text (`OrderStatus`), newtypes (`Fen`) and JSON columns the same way, and one
//! implementation here serves both drivers.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{Column as _, Row as _, TypeInfo as _, ValueRef as _};

/// A row of either database.
pub enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

impl Row {
    /// The row as a `T`, each field from the column of its name.
    pub fn read<T: DeserializeOwned>(&self) -> sqlx::Result<T> {
        T::deserialize(Whole { row: self }).map_err(|e| sqlx::Error::Decode(Box::new(e)))
    }

    fn len(&self) -> usize {
        match self {
            Row::Sqlite(r) => r.len(),
            Row::Postgres(r) => r.len(),
        }
    }

    fn name(&self, i: usize) -> &str {
        match self {
            Row::Sqlite(r) => r.column(i).name(),
            Row::Postgres(r) => r.column(i).name(),
        }
    }

    fn is_null(&self, i: usize) -> Result<bool, Error> {
        Ok(match self {
            Row::Sqlite(r) => r.try_get_raw(i).map_err(Error::from_sqlx)?.is_null(),
            Row::Postgres(r) => r.try_get_raw(i).map_err(Error::from_sqlx)?.is_null(),
        })
    }

    /// What the value is: SQLite's storage class of this very value, PostgreSQL's column type.
    fn kind(&self, i: usize) -> Result<Kind, Error> {
        if self.is_null(i)? {
            return Ok(Kind::Null);
        }
        Ok(match self {
            Row::Sqlite(r) => {
                let raw = r.try_get_raw(i).map_err(Error::from_sqlx)?;
                match raw.type_info().name() {
                    "INTEGER" | "BOOLEAN" => Kind::Int,
                    "REAL" => Kind::Float,
                    _ => Kind::Text,
                }
            }
            Row::Postgres(r) => match r.column(i).type_info().name() {
                "INT8" | "INT4" | "INT2" => Kind::Int,
                "BOOL" => Kind::Bool,
                "FLOAT4" | "FLOAT8" => Kind::Float,
                "TIMESTAMPTZ" => Kind::Time,
                "JSON" | "JSONB" => Kind::Json,
                _ => Kind::Text,
            },
        })
    }

    fn value<T>(&self, i: usize) -> Result<T, Error>
    where
        T: for<'r> sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
        T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        match self {
            Row::Sqlite(r) => r.try_get(i),
            Row::Postgres(r) => r.try_get(i),
        }
        .map_err(Error::from_sqlx)
    }

    /// Text, or on PostgreSQL a time or JSON value as the text SQLite keeps for it (SQLite keeps
    /// both as text already).
    fn text(&self, i: usize) -> Result<String, Error> {
        match self {
            Row::Sqlite(_) => self.value(i),
            Row::Postgres(r) => match r.column(i).type_info().name() {
                "TIMESTAMPTZ" => Ok(self.value::<DateTime<Utc>>(i)?.to_rfc3339_opts(SecondsFormat::AutoSi, false)),
                "JSON" | "JSONB" => {
                    r.try_get::<serde_json::Value, _>(i).map(|v| v.to_string()).map_err(Error::from_sqlx)
                }
                _ => self.value(i),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Null,
    Int,
    Bool,
    Float,
    Text,
    Time,
    Json,
}

/// Why a row could not be read as the type asked for, naming the column.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    fn from_sqlx(e: sqlx::Error) -> Self {
        Error(e.to_string())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// The whole row: a struct (or map) by column name, or the value of a one-column row.
struct Whole<'a> {
    row: &'a Row,
}

impl Whole<'_> {
    fn only(&self) -> Result<Value<'_>, Error> {
        match self.row.len() {
            1 => Ok(Value { row: self.row, i: 0 }),
            n => Err(Error(format!("a row of {n} columns cannot be read as one value; read it into a struct"))),
        }
    }
}

macro_rules! one_value {
    ($($method:ident)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            self.only()?.$method(visitor)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Whole<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.row.len() {
            1 => self.only()?.deserialize_any(visitor),
            _ => self.deserialize_map(visitor),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(Columns { row: self.row, next: 0 })
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Error> {
        self.only()?.deserialize_newtype_struct(name, visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.only()?.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, Error> {
        Err(Error("rows are read by column name, not as tuples; read it into a struct".into()))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_tuple(len, visitor)
    }

    one_value! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8
        deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64 deserialize_char
        deserialize_str deserialize_string deserialize_bytes deserialize_byte_buf deserialize_option
        deserialize_unit deserialize_seq deserialize_identifier deserialize_ignored_any
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value, Error> {
        self.only()?.deserialize_unit_struct(name, visitor)
    }
}

/// The row's columns as a map from name to value.
struct Columns<'a> {
    row: &'a Row,
    next: usize,
}

impl<'de> MapAccess<'de> for Columns<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Error> {
        if self.next >= self.row.len() {
            return Ok(None);
        }
        let name = self.row.name(self.next);
        seed.deserialize(de::value::StrDeserializer::<Error>::new(name)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let i = self.next;
        self.next += 1;
        seed.deserialize(Value { row: self.row, i }).map_err(|e| Error(format!("column {}: {e}", self.row.name(i))))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.row.len() - self.next)
    }
}

/// One column's value, read as the type asks.
struct Value<'a> {
    row: &'a Row,
    i: usize,
}

impl Value<'_> {
    /// An integer of any width (PostgreSQL gives `SELECT 1` as INT4, `COUNT(*)` as INT8).
    fn int(&self) -> Result<i64, Error> {
        match self.row {
            Row::Postgres(r) => match r.column(self.i).type_info().name() {
                "INT2" => Ok(i64::from(self.row.value::<i16>(self.i)?)),
                "INT4" => Ok(i64::from(self.row.value::<i32>(self.i)?)),
                _ => self.row.value(self.i),
            },
            Row::Sqlite(_) => self.row.value(self.i),
        }
    }
}

macro_rules! integer {
    ($($method:ident => $visit:ident : $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            let n = self.int()?;
            visitor.$visit(<$ty>::try_from(n).map_err(|_| Error(format!("{n} does not fit")))?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Value<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.row.kind(self.i)? {
            Kind::Null => visitor.visit_none(),
            Kind::Int => visitor.visit_i64(self.int()?),
            Kind::Bool => visitor.visit_bool(self.row.value(self.i)?),
            Kind::Float => visitor.visit_f64(self.row.value(self.i)?),
            Kind::Text | Kind::Time | Kind::Json => visitor.visit_string(self.row.text(self.i)?),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_bool(self.row.value(self.i)?)
    }

    integer! {
        deserialize_i8 => visit_i8: i8, deserialize_i16 => visit_i16: i16, deserialize_i32 => visit_i32: i32,
        deserialize_u8 => visit_u8: u8, deserialize_u16 => visit_u16: u16, deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
    }

    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_i64(self.int()?)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_f64(self.row.value(self.i)?)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_string(self.row.text(self.i)?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.row.is_null(self.i)? {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    /// An enum stored as its variant's name (`'delivered'`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(IntoDeserializer::<Error>::into_deserializer(self.row.text(self.i)?))
    }

    /// A JSON column (or text holding JSON) read into a list, a map or a struct.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.json(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.json(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.json(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.json(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.json(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let bytes: Vec<u8> = self.row.value(self.i)?;
        visitor.visit_byte_buf(bytes)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }
}

impl Value<'_> {
    fn json<'de, V: Visitor<'de>>(&self, visitor: V) -> Result<V::Value, Error> {
        use serde::Deserializer as _;
        let value: serde_json::Value = serde_json::from_str(&self.row.text(self.i)?).map_err(de::Error::custom)?;
        value.deserialize_any(visitor).map_err(de::Error::custom)
    }
}
