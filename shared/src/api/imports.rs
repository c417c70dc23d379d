//! Spreadsheets staff bring in (the households' register, the catalogue): every
//! import answers row by row, first as a dry run, and is applied all or nothing.

use super::*;

/// What importing one row does (or would do, in a dry run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    /// Something new is recorded.
    Create,
    /// Something on record changes.
    Update,
    /// Already on record as the row says: importing the same file twice changes nothing.
    Unchanged,
    /// The row cannot be taken: see its errors. One such row and nothing is applied.
    Error,
}

/// Why a row cannot be taken, and in which column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportError {
    /// The column's heading as the file has it; absent when the whole row is at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub reason: String,
}

/// One row of the file, numbered as a spreadsheet program numbers it (the heading is row 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportRow {
    pub row: u32,
    pub action: ImportAction,
    #[serde(default)]
    pub errors: Vec<ImportError>,
}

/// `POST /admin/households/register/import`: each row's verdict; `applied` is true only when
/// it was not a dry run and no row had an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RegisterImport {
    pub rows: Vec<ImportRow>,
    pub applied: bool,
    /// Phones put on a register (or that would be).
    pub added: u32,
    /// Residents waiting to join who became members because their phone is now registered.
    pub let_in: u32,
}

/// `POST /admin/catalogue/import`: each row's verdict; `applied` is true only when it was not a
/// dry run and no row had an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CatalogueImport {
    pub rows: Vec<ImportRow>,
    pub applied: bool,
    /// New products (made, or that would be).
    pub created: u32,
    /// Products changed (or that would be).
    pub updated: u32,
}

/// `?dry_run=`: check only (the default), or apply.
#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ImportQuery {
    /// `true` (the default) checks the file and changes nothing; `false` applies it when every
    /// row is good.
    #[serde(default = "yes")]
    pub dry_run: bool,
}

pub(crate) fn yes() -> bool {
    true
}
