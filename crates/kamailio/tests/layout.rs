//! ABI layout test: every `#[repr(C)]` mirror and every numeric constant in `src/sys/` against
//! the REAL headers of the Kamailio host this build targets.
//!
//! `tests/layout_probe.c` is compiled with gcc against the host's source tree (with the defines a
//! Debian module build uses) and run; it prints sizes, alignments, field offsets, field sizes,
//! integer signedness and constant values. Each is compared with `size_of` / `align_of` /
//! `offset_of!` of the Rust mirror. The test also scans `src/sys/*.rs` so that a struct or
//! constant added there without a check here fails, and it destructures every mirror, so a field
//! added to a mirror without a check here does not compile.
//!
//! Where the headers come from (the source tree root, the directory containing `src/core`):
//! 1. `KAMAILIO_SRC`;
//! 2. `<repo>/target/kamailio/src/kamailio-<version>` for the version this build targets
//!    (`kamailio_module::host::MODULE_VERSION`), as made by `tests/stack/setup.sh` (5.6.3) or
//!    `tests/stack/build-kamailio-6.0.sh` (6.0.1).
//!
//! No headers found is a FAILURE, never a skip.
//!
//! Compiler: `$CC` if set, else `gcc`.

use std::{
    collections::{BTreeMap, BTreeSet},
    env, fs,
    mem::{align_of, offset_of, size_of},
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use kamailio_module::{host, sys::*};

// ---------------------------------------------------------------------------------------------
// Locating the headers and running the probe
// ---------------------------------------------------------------------------------------------

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// "kamailio 5.6.3 (x86_64/linux)" -> "5.6.3"
fn target_version() -> String {
    let v = host::MODULE_VERSION
        .to_str()
        .expect("MODULE_VERSION is UTF-8");
    v.split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no version number in MODULE_VERSION {v:?}"))
        .to_string()
}

fn find_headers() -> Result<PathBuf, String> {
    let how = format!(
        "Get them with `sudo bash tests/stack/setup.sh` (Kamailio 5.6.3) or \
         `sudo bash tests/stack/build-kamailio-6.0.sh` (6.0.1), or point KAMAILIO_SRC at a \
         Kamailio {} source tree (the directory that contains src/core).",
        target_version()
    );
    let has_core = |p: &Path| p.join("src/core/str.h").is_file();
    if let Some(src) = env::var_os("KAMAILIO_SRC") {
        let src = PathBuf::from(src);
        return if has_core(&src) {
            Ok(src)
        } else {
            Err(format!(
                "KAMAILIO_SRC={} has no src/core/str.h. {how}",
                src.display()
            ))
        };
    }
    let default = repo_root().join(format!("target/kamailio/src/kamailio-{}", target_version()));
    if has_core(&default) {
        Ok(default)
    } else {
        Err(format!(
            "no Kamailio headers for the targeted host {:?} (HOST_SERIES {}, from {}): \
             KAMAILIO_SRC is not set and {} does not exist. {how}",
            host::MODULE_VERSION,
            host::HOST_SERIES,
            host::HOST_SOURCE,
            default.join("src/core").display()
        ))
    }
}

/// VERSION.PATCHLEVEL.SUBLEVEL+EXTRAVERSION from the tree's `src/Makefile.defs`.
fn header_version(src: &Path) -> Result<(u32, u32, u32, String), String> {
    let path = src.join("src/Makefile.defs");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let var = |name: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.split_once('=')?;
            (k.trim() == name).then(|| v.trim().to_string())
        })
    };
    let num = |name: &str| {
        var(name)
            .and_then(|v| v.parse::<u32>().ok())
            .ok_or_else(|| format!("{}: no numeric {name}", path.display()))
    };
    Ok((
        num("VERSION")?,
        num("PATCHLEVEL")?,
        num("SUBLEVEL")?,
        var("EXTRAVERSION").unwrap_or_default(),
    ))
}

/// The probe's output: `key -> value` (see the comment at the top of layout_probe.c).
struct Facts {
    src: PathBuf,
    version: String,
    map: BTreeMap<String, String>,
}

impl Facts {
    fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }
    fn num(&self, key: &str) -> Option<i128> {
        self.get(key).map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("probe printed non-numeric {key} {v}"))
        })
    }
}

fn probe() -> &'static Facts {
    static FACTS: OnceLock<Result<Facts, String>> = OnceLock::new();
    match FACTS.get_or_init(run_probe) {
        Ok(f) => f,
        Err(e) => panic!("{e}"),
    }
}

fn run_probe() -> Result<Facts, String> {
    let src = find_headers()?;
    let (major, minor, sub, extra) = header_version(&src)?;
    let version = format!("{major}.{minor}.{sub}{extra}");
    let series = format!("{major}.{minor}");
    if series != host::HOST_SERIES {
        return Err(format!(
            "the headers in {} are Kamailio {version}, but this build targets the {} series \
             ({:?}, from {}): point KAMAILIO_SRC at matching headers or build for that host",
            src.display(),
            host::HOST_SERIES,
            host::MODULE_VERSION,
            host::HOST_SOURCE
        ));
    }

    let arch = env::consts::ARCH;
    let out_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("layout-probe-{version}"));
    fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;
    let exe = out_dir.join("layout_probe");
    let probe_c = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/layout_probe.c");
    let cc = env::var("CC").unwrap_or_else(|_| "gcc".into());

    // The defines of a Debian module build (shared KAMAILIO.md section 5), with this tree's
    // version. Only the version strings depend on them; no layout does.
    let mut args: Vec<String> = [
        "-DNAME=\"kamailio\"".to_string(),
        format!("-DVERSION=\"{version}\""),
        format!("-DARCH=\"{arch}\""),
        "-DOS=linux_".into(),
        "-DOS_QUOTED=\"linux\"".into(),
        format!("-D__CPU_{arch}"),
        "-D__OS_linux".into(),
        format!("-DVERSIONVAL={}", major * 1_000_000 + minor * 1000 + sub),
    ]
    .into();
    args.extend(
        [
            "-DPKG_MALLOC",
            "-DSHM_MMAP",
            "-DDNS_IP_HACK",
            "-DUSE_MCAST",
            "-DUSE_TCP",
            "-DDISABLE_NAGLE",
            "-DHAVE_RESOLV_RES",
            "-DUSE_DNS_CACHE",
            "-DUSE_DNS_FAILOVER",
            "-DUSE_DST_BLOCKLIST",
            "-DUSE_NAPTR",
            "-DWITH_XAVP",
            "-DMEM_JOIN_FREE",
            "-DF_MALLOC",
            "-DQ_MALLOC",
            "-DTLSF_MALLOC",
            "-DDBG_SR_MEMORY",
            "-DUSE_TLS",
            "-DTLS_HOOKS",
            "-DUSE_CORE_STATS",
            "-DSTATISTICS",
            "-DMALLOC_STATS",
            "-DUSE_SCTP",
            "-DFAST_LOCK",
            "-DADAPTIVE_WAIT",
            "-DADAPTIVE_WAIT_LOOPS=1024",
            "-DCC_GCC_LIKE_ASM",
            "-DHAVE_GETHOSTBYNAME2",
            "-DHAVE_UNION_SEMUN",
            "-DHAVE_SCHED_YIELD",
            "-DHAVE_MSG_NOSIGNAL",
            "-DHAVE_MSGHDR_MSG_CONTROL",
            "-DHAVE_ALLOCA_H",
            "-DHAVE_TIMEGM",
            "-DHAVE_SCHED_SETSCHEDULER",
            "-DHAVE_IP_MREQN",
            "-DUSE_RAW_SOCKS",
            "-DHAVE_EPOLL",
            "-DHAVE_SIGIO_RT",
            "-DSIGINFO64_WORKARROUND",
            "-DUSE_FUTEX",
            "-DHAVE_SELECT",
            "-pthread",
            "-DKSR_PTHREAD_MUTEX_SHARED",
            "-DVERSION_NODATE",
            "-DMOD_NAME=\"layout_probe\"",
            "-Wall",
            "-O0",
        ]
        .map(String::from),
    );
    args.push(format!("-I{}", src.join("src").display()));
    args.push("-o".into());
    args.push(exe.display().to_string());
    args.push(probe_c.display().to_string());

    let out = Command::new(&cc)
        .args(&args)
        .output()
        .map_err(|e| format!("cannot run the C compiler {cc:?} (install gcc): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "compiling the layout probe against {} failed:\n{cc} {}\n{}",
            src.display(),
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let run = Command::new(&exe)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    if !run.status.success() {
        return Err(format!("{} failed: {}", exe.display(), run.status));
    }
    let text = String::from_utf8(run.stdout).map_err(|e| format!("probe output: {e}"))?;
    let mut map = BTreeMap::new();
    for line in text.lines() {
        let (key, value) = if let Some(rest) = line.strip_prefix("const ") {
            let (k, v) = rest.split_once(' ').expect("const line");
            (format!("const {k}"), v)
        } else if let Some(rest) = line.strip_prefix("string ") {
            let (k, v) = rest.split_once(' ').expect("string line");
            (format!("string {k}"), v)
        } else {
            let (k, v) = line.split_once(' ').expect("probe line");
            (k.to_string(), v)
        };
        map.insert(key, value.to_string());
    }
    Ok(Facts { src, version, map })
}

// ---------------------------------------------------------------------------------------------
// The mirrors: Rust type -> C type, each Rust field -> the C field it mirrors
// ---------------------------------------------------------------------------------------------

/// Integer signedness of a mirror field's type (`None`: not an integer).
trait FieldKind {
    const SIGNED: Option<bool>;
}
macro_rules! kind {
    ($signed:expr => $($t:ty),*) => { $(impl FieldKind for $t { const SIGNED: Option<bool> = $signed; })* };
}
kind!(Some(true) => i8, i16, i32, i64);
kind!(Some(false) => u8, u16, u32, u64);
kind!(None => Str);
impl<T> FieldKind for *mut T {
    const SIGNED: Option<bool> = None;
}
impl<T> FieldKind for *const T {
    const SIGNED: Option<bool> = None;
}
impl<T> FieldKind for Option<T> {
    const SIGNED: Option<bool> = None;
}
impl<T, const N: usize> FieldKind for [T; N] {
    const SIGNED: Option<bool> = None;
}

/// Size and signedness of the field a (never called) projection points to.
fn field_facts<S, F: FieldKind>(_: impl FnOnce(*const S) -> *const F) -> (usize, Option<bool>) {
    (size_of::<F>(), F::SIGNED)
}

/// What a Rust field mirrors on the C side.
enum CField {
    /// The C field of this name (`a.b` for a nested one).
    Field(&'static str),
    /// The rest of C field `within`, from the end of its member `after` to its own end
    /// (a byte array standing in for the part of a C struct the mirror does not spell out).
    Rest {
        after: &'static str,
        within: &'static str,
    },
}

struct MirrorField {
    rust: &'static str,
    c: CField,
    offset: usize,
    size: usize,
    signed: Option<bool>,
}

struct Mirror {
    rust: &'static str,
    c: &'static str,
    size: usize,
    align: usize,
    fields: Vec<MirrorField>,
}

macro_rules! mirror {
    ($rust:ident => $c:literal { $($field:ident => $cfield:expr),* $(,)? }) => {{
        // Names every field of the mirror: adding one without a check here fails to compile.
        let _exhaustive = |v: &$rust| {
            let $rust { $($field: _),* } = v;
        };
        let fields = vec![$({
            let (size, signed) = field_facts(|p: *const $rust| unsafe { &raw const (*p).$field });
            MirrorField {
                rust: stringify!($field),
                c: $cfield,
                offset: offset_of!($rust, $field),
                size,
                signed,
            }
        }),*];
        Mirror { rust: stringify!($rust), c: $c, size: size_of::<$rust>(), align: align_of::<$rust>(), fields }
    }};
}

use CField::{Field as F, Rest};

fn mirrors() -> Vec<Mirror> {
    vec![
        mirror!(Str => "str" { s => F("s"), len => F("len") }),
        mirror!(ModuleExports => "module_exports" {
            name => F("name"),
            dlflags => F("dlflags"),
            cmds => F("cmds"),
            params => F("params"),
            rpc_methods => F("rpc_methods"),
            pv_items => F("pv_items"),
            response_f => F("response_f"),
            init_mod_f => F("init_mod_f"),
            init_child_f => F("init_child_f"),
            destroy_mod_f => F("destroy_mod_f"),
        }),
        mirror!(CmdExport => "cmd_export_t" {
            name => F("name"),
            function => F("function"),
            param_no => F("param_no"),
            fixup => F("fixup"),
            free_fixup => F("free_fixup"),
            flags => F("flags"),
        }),
        mirror!(ParamExport => "param_export_t" {
            name => F("name"),
            type_ => F("type"),
            param_pointer => F("param_pointer"),
        }),
        mirror!(SrModule => "sr_module" {
            path => F("path"),
            handle => F("handle"),
            exports_name => F("exports.name"),
            exports_rest => Rest { after: "exports.name", within: "exports" },
            modflags => F("modflags"),
            next => F("next"),
        }),
        mirror!(PvValue => "pv_value_t" { rs => F("rs"), ri => F("ri"), flags => F("flags") }),
        mirror!(LogLevelInfo => "log_level_info" {
            name => F("name"),
            syslog_level => F("syslog_level"),
        }),
        mirror!(LogData => "ksr_logdata_t" {
            v_facility => F("v_facility"),
            v_level => F("v_level"),
            v_lname => F("v_lname"),
            v_fname => F("v_fname"),
            v_fline => F("v_fline"),
            v_mname => F("v_mname"),
            v_func => F("v_func"),
            v_locinfo => F("v_locinfo"),
            v_pid => F("v_pid"),
            v_pidx => F("v_pidx"),
        }),
        mirror!(PublInfo => "publ_info_t" {
            id => F("id"),
            pres_uri => F("pres_uri"),
            body => F("body"),
            expires => F("expires"),
            flag => F("flag"),
            source_flag => F("source_flag"),
            event => F("event"),
            content_type => F("content_type"),
            etag => F("etag"),
            outbound_proxy => F("outbound_proxy"),
            extra_headers => F("extra_headers"),
            cb_param => F("cb_param"),
        }),
        mirror!(SubsInfo => "subs_info_t" {
            id => F("id"),
            pres_uri => F("pres_uri"),
            watcher_uri => F("watcher_uri"),
            contact => F("contact"),
            remote_target => F("remote_target"),
            outbound_proxy => F("outbound_proxy"),
            event => F("event"),
            extra_headers => F("extra_headers"),
            expires => F("expires"),
            source_flag => F("source_flag"),
            flag => F("flag"),
            cb_param => F("cb_param"),
            internal_update_flag => F("internal_update_flag"),
        }),
        mirror!(UaPres => "ua_pres_t" {
            id => F("id"),
            pres_uri => F("pres_uri"),
            event => F("event"),
            expires => F("expires"),
            desired_expires => F("desired_expires"),
            flag => F("flag"),
            db_flag => F("db_flag"),
            cb_param => F("cb_param"),
            next => F("next"),
            ua_flag => F("ua_flag"),
            outbound_proxy => F("outbound_proxy"),
            etag => F("etag"),
            tuple_id => F("tuple_id"),
            body => F("body"),
            content_type => F("content_type"),
            watcher_uri => F("watcher_uri"),
            call_id => F("call_id"),
            to_tag => F("to_tag"),
            from_tag => F("from_tag"),
            cseq => F("cseq"),
            version => F("version"),
            extra_headers => F("extra_headers"),
            record_route => F("record_route"),
            remote_contact => F("remote_contact"),
            contact => F("contact"),
        }),
        mirror!(PuaApi => "pua_api_t" {
            send_subscribe => F("send_subscribe"),
            send_publish => F("send_publish"),
            register_puacb => F("register_puacb"),
            is_dialog => F("is_dialog"),
            get_record_id => F("get_record_id"),
            add_event => F("add_event"),
            get_subs_list => F("get_subs_list"),
        }),
        mirror!(SrKemi => "sr_kemi_t" {
            mname => F("mname"),
            fname => F("fname"),
            rtype => F("rtype"),
            func => F("func"),
            ptypes => F("ptypes"),
        }),
        mirror!(SrKemiModule => "sr_kemi_module_t" { mname => F("mname"), kexp => F("kexp") }),
        mirror!(XmppApi => "xmpp_api_t" {
            register_callback => F("register_callback"),
            xpacket => F("xpacket"),
            xmessage => F("xmessage"),
            xsubscribe => F("xsubscribe"),
            xnotify => F("xnotify"),
            decode_uri_sip_xmpp => F("decode_uri_sip_xmpp"),
            encode_uri_sip_xmpp => F("encode_uri_sip_xmpp"),
            decode_uri_xmpp_sip => F("decode_uri_xmpp_sip"),
            encode_uri_xmpp_sip => F("encode_uri_xmpp_sip"),
        }),
    ]
}

/// Structs in sys/ that are only ever handled by pointer (must stay zero-sized).
const OPAQUE: &[(&str, usize)] = &[
    ("SipMsgRaw", size_of::<SipMsgRaw>()),
    ("PvSpecRaw", size_of::<PvSpecRaw>()),
    ("FParamRaw", size_of::<FParamRaw>()),
];

macro_rules! consts {
    ($($name:ident),* $(,)?) => { vec![$((stringify!($name), $name as i128)),*] };
}

/// Every constant in sys/ with its value (same name as the C macro).
fn constants() -> Vec<(&'static str, i128)> {
    let mut v = consts![
        // core/route.h
        REQUEST_ROUTE,
        ONREPLY_ROUTE,
        ANY_ROUTE,
        // core/sr_module.h
        NO_SCRIPT,
        PARAM_STRING,
        PARAM_INT,
        PARAM_STR,
        PARAM_USE_FUNC,
        PROC_MAIN,
        PROC_TIMER,
        PROC_INIT,
        PROC_NOCHLDINIT,
        // core/error.h
        E_UNSPEC,
        E_BUG,
        E_CFG,
        // core/kemi.h
        SR_KEMI_PARAMS_MAX,
        SR_KEMIP_NONE,
        SR_KEMIP_INT,
        SR_KEMIP_STR,
        // core/pvar.h
        PV_VAL_NULL,
        PV_VAL_STR,
        PV_VAL_INT,
        PV_TYPE_INT,
        PV_VAL_PKG,
        PV_VAL_SHM,
        // core/dprint.h
        L_ALERT,
        L_CRIT,
        L_ERR,
        L_WARN,
        L_NOTICE,
        L_INFO,
        L_DBG,
        // modules/pua/hash.h
        PRESENCE_EVENT,
        PWINFO_EVENT,
        XMPP_PUBLISH,
        XMPP_SUBSCRIBE,
        XMPP_INITIAL_SUBS,
        // modules/xmpp/xmpp_api.h
        XMPP_RCV_MESSAGE,
        XMPP_RCV_PRESENCE,
        XMPP_RCV_IQ,
    ];
    // core/parser/msg_parser.h: a pointer constant, compared as an address.
    v.push(("FAKED_REPLY", FAKED_REPLY as usize as i128));
    v
}

/// `pub struct X` / `pub const X` items declared at the top level of src/sys/*.rs.
fn sys_items() -> (BTreeSet<String>, BTreeSet<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/sys");
    let (mut structs, mut consts) = (BTreeSet::new(), BTreeSet::new());
    for entry in fs::read_dir(&dir).expect("src/sys") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = fs::read_to_string(&path).expect("read sys file");
        for line in text.lines() {
            let ident = |rest: &str| {
                rest.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .next()
                    .unwrap_or_default()
                    .to_string()
            };
            if let Some(rest) = line.strip_prefix("pub struct ") {
                structs.insert(ident(rest));
            } else if let Some(rest) = line.strip_prefix("pub const ") {
                consts.insert(ident(rest));
            }
        }
    }
    (structs, consts)
}

// ---------------------------------------------------------------------------------------------
// The checks
// ---------------------------------------------------------------------------------------------

/// Collects mismatches, so one run reports all of them.
#[derive(Default)]
struct Report {
    checked: usize,
    errors: Vec<String>,
}

impl Report {
    /// One numeric fact: Rust's value against the probe's (`None`: the probe did not print it).
    fn expect(&mut self, what: String, rust: usize, c: Option<i128>) {
        self.checked += 1;
        match c {
            None => self.fail(format!("{what}: the probe printed nothing for it")),
            Some(c) if c != rust as i128 => self.fail(format!("{what}: Rust {rust}, C {c}")),
            Some(_) => {}
        }
    }
    fn fail(&mut self, msg: String) {
        self.errors.push(msg);
    }
}

fn check_mirror(f: &Facts, m: &Mirror, r: &mut Report) {
    let ty = m.c;
    r.expect(
        format!("size_of::<{}>() vs sizeof({ty})", m.rust),
        m.size,
        f.num(ty),
    );
    r.expect(
        format!("align_of::<{}>() vs _Alignof({ty})", m.rust),
        m.align,
        f.num(&format!("{ty}:align")),
    );
    let mut covered = BTreeSet::new();
    for fld in &m.fields {
        let rname = format!("{}.{}", m.rust, fld.rust);
        match fld.c {
            CField::Field(c) => {
                covered.insert(c);
                let key = format!("{ty}.{c}");
                r.expect(
                    format!("offset_of!({rname}) vs offsetof({ty}, {c})"),
                    fld.offset,
                    f.num(&key),
                );
                r.expect(
                    format!("size of {rname} vs sizeof({ty}.{c})"),
                    fld.size,
                    f.num(&format!("{key}:size")),
                );
                r.checked += 1;
                let sign = |s: bool| if s { "signed" } else { "unsigned" };
                match (fld.signed, f.num(&format!("{key}:signed")).map(|s| s != 0)) {
                    (Some(rs), Some(cs)) if rs != cs => r.fail(format!(
                        "{rname} is {} but {ty}.{c} is {}",
                        sign(rs),
                        sign(cs)
                    )),
                    (None, Some(_)) => {
                        r.fail(format!("{rname} is not an integer but {ty}.{c} is one"))
                    }
                    (Some(_), None) => r.fail(format!(
                        "{rname} is an integer but the probe does not list {ty}.{c} as one"
                    )),
                    _ => {}
                }
            }
            CField::Rest { after, within } => {
                covered.insert(after);
                covered.insert(within);
                let end_of = |k: &str| {
                    let off = f.num(&format!("{ty}.{k}"))?;
                    Some(off + f.num(&format!("{ty}.{k}:size"))?)
                };
                r.expect(
                    format!("offset_of!({rname}) vs end of {ty}.{after}"),
                    fld.offset,
                    end_of(after),
                );
                r.expect(
                    format!("end of {rname} vs end of {ty}.{within}"),
                    fld.offset + fld.size,
                    end_of(within),
                );
            }
        }
    }
    // Every field the probe lists for this C type must be mirrored.
    let prefix = format!("{ty}.");
    for key in f.map.keys() {
        if let Some(field) = key.strip_prefix(&prefix)
            && !field.contains(':')
            && !covered.contains(field)
        {
            r.fail(format!("{ty}.{field} has no counterpart in {}", m.rust));
        }
    }
}

#[test]
fn mirrors_match_host_headers() {
    let f = probe();
    let mut r = Report::default();

    let mirrors = mirrors();
    for m in &mirrors {
        check_mirror(f, m, &mut r);
    }

    // `module_version` / `module_flags` are `char *` data symbols.
    r.expect(
        "size_of::<CStrSymbol>() vs sizeof(char *)".into(),
        size_of::<CStrSymbol>(),
        f.num("char_ptr"),
    );
    r.expect(
        "align_of::<CStrSymbol>() vs _Alignof(char *)".into(),
        align_of::<CStrSymbol>(),
        f.num("char_ptr:align"),
    );
    for (name, size) in OPAQUE {
        r.expect(format!("size_of::<{name}>() (opaque)"), *size, Some(0));
    }

    let consts = constants();
    for (name, rust) in &consts {
        r.checked += 1;
        match f.num(&format!("const {name}")) {
            None => r.fail(format!("constant {name}: the probe printed nothing for it")),
            Some(c) if c != *rust => r.fail(format!("constant {name}: Rust {rust}, C {c}")),
            Some(_) => {}
        }
    }

    // Everything declared in sys/ must be covered above.
    let (structs, sys_consts) = sys_items();
    let known: BTreeSet<&str> = mirrors
        .iter()
        .map(|m| m.rust)
        .chain(OPAQUE.iter().map(|(n, _)| *n))
        .chain(["CStrSymbol"])
        .collect();
    for s in structs.iter().filter(|s| !known.contains(s.as_str())) {
        r.fail(format!(
            "struct {s} in src/sys/ is not checked by tests/layout.rs"
        ));
    }
    let known_consts: BTreeSet<&str> = consts.iter().map(|(n, _)| *n).collect();
    for c in sys_consts
        .iter()
        .filter(|c| !known_consts.contains(c.as_str()))
    {
        r.fail(format!(
            "constant {c} in src/sys/ is not checked by tests/layout.rs"
        ));
    }

    assert!(
        r.errors.is_empty(),
        "{} of {} ABI facts differ from the Kamailio {} headers in {}:\n  {}",
        r.errors.len(),
        r.checked,
        f.version,
        f.src.display(),
        r.errors.join("\n  ")
    );
    eprintln!(
        "layout: {} facts ({} mirrors, {} constants) match the Kamailio {} headers in {} \
         (build targets {:?})",
        r.checked,
        mirrors.len(),
        consts.len(),
        f.version,
        f.src.display(),
        host::MODULE_VERSION
    );
}

/// `module_version` / `module_flags` this build exports are what a C module compiled from these
/// headers with Debian's defines exports (the core `strcmp`s both at `loadmodule`).
#[test]
fn host_strings_match_host_headers() {
    let f = probe();
    let mut errors = Vec::new();
    for (name, rust, key) in [
        (
            "MODULE_VERSION",
            host::MODULE_VERSION,
            "string SER_FULL_VERSION",
        ),
        (
            "MODULE_FLAGS",
            host::MODULE_FLAGS,
            "string SER_COMPILE_FLAGS",
        ),
    ] {
        let rust = rust.to_str().expect("UTF-8");
        match f.get(key) {
            Some(c) if c == rust => {}
            c => errors.push(format!(
                "host::{name} is {rust:?} but the headers give {c:?} ({})",
                key.trim_start_matches("string ")
            )),
        }
    }
    assert!(
        errors.is_empty(),
        "the build's host strings (from {}) differ from the Kamailio {} headers in {}:\n  {}",
        host::HOST_SOURCE,
        f.version,
        f.src.display(),
        errors.join("\n  ")
    );
}
