//! `EDGECART_REDIS_URL` as fred reads it. Two rewrites: a TLS scheme becomes its plain one (we
//! set up TLS ourselves), and a cluster's comma list of seed nodes
//! (`redis-cluster://h1:p1,h2:p2,h3:p3`, the form API.md documents) becomes fred's
//! `redis-cluster://h1:p1?node=h2:p2&node=h3:p3`. Any other URL passes through unchanged.

use std::borrow::Cow;

/// The URL fred should parse, and whether it asked for TLS.
pub(super) fn for_fred(url: &str) -> (Cow<'_, str>, bool) {
    let (plain, tls) = plain_scheme(url);
    match seed_list(&plain) {
        Some(rewritten) => (Cow::Owned(rewritten), tls),
        None => (plain, tls),
    }
}

/// The URL with the plain scheme fred parses without TLS (`rediss://` → `redis://`), and
/// whether it asked for TLS. fred's own TLS set-up for a `rediss://` URL would trust the
/// system's roots through the process-wide crypto provider; `Redis::connect` sets ours.
fn plain_scheme(url: &str) -> (Cow<'_, str>, bool) {
    for (secure, plain) in [("rediss", "redis"), ("valkeys", "valkey")] {
        if let Some(rest) = url.strip_prefix(secure)
            && (rest.starts_with("://") || rest.starts_with('-'))
        {
            return (Cow::Owned(format!("{plain}{rest}")), true);
        }
    }
    (Cow::Borrowed(url), false)
}

/// A cluster URL whose authority lists several `host:port` seeds, rewritten with the first as
/// the host and the others as `node=` parameters ahead of any query it had; `None` for any
/// other URL. The user information (before the last `@`) stays with the first seed.
fn seed_list(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.ends_with("-cluster") {
        return None;
    }
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let (userinfo, hosts) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    let mut seeds = hosts.split(',').filter(|seed| !seed.is_empty());
    let first = seeds.next()?;
    let others: Vec<&str> = seeds.collect();
    if others.is_empty() {
        return None;
    }
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    let mut params: Vec<String> = others.iter().map(|seed| format!("node={seed}")).collect();
    params.extend(query.filter(|query| !query.is_empty()).map(str::to_owned));
    Some(format!(
        "{scheme}://{userinfo}{first}{path}?{}",
        params.join("&")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_schemes_are_read_as_their_plain_ones() {
        let cases = [
            (
                "rediss://:pw@cache:6380/1",
                "redis://:pw@cache:6380/1",
                true,
            ),
            (
                "rediss-cluster://a:1?node=b:2",
                "redis-cluster://a:1?node=b:2",
                true,
            ),
            ("valkeys://cache", "valkey://cache", true),
            ("redis://cache", "redis://cache", false),
            ("redissx://cache", "redissx://cache", false),
        ];
        for (url, plain, tls) in cases {
            assert_eq!(plain_scheme(url), (Cow::Borrowed(plain), tls), "{url}");
        }
    }

    #[test]
    fn a_cluster_seed_list_becomes_node_parameters() {
        let cases = [
            (
                "redis-cluster://a:1,b:2,c:3",
                "redis-cluster://a:1?node=b:2&node=c:3",
                false,
            ),
            (
                "rediss-cluster://user:p,w@a:1,b:2?x=y",
                "redis-cluster://user:p,w@a:1?node=b:2&x=y",
                true,
            ),
            (
                "redis-cluster://a:1,b:2/",
                "redis-cluster://a:1/?node=b:2",
                false,
            ),
            (
                "redis-cluster://a:1?node=b:2",
                "redis-cluster://a:1?node=b:2",
                false,
            ),
            ("redis://a:1,b:2", "redis://a:1,b:2", false),
        ];
        for (url, fred, tls) in cases {
            assert_eq!(for_fred(url), (Cow::Borrowed(fred), tls), "{url}");
        }
    }

    #[test]
    fn fred_reads_every_seed_of_a_rewritten_list() {
        let (url, _) = for_fred("redis-cluster://a:7001,b:7002,c:7003");
        let config = fred::prelude::Config::from_url(&url).expect("a valid cluster URL");
        let fred::prelude::ServerConfig::Clustered { hosts, .. } = config.server else {
            panic!("not read as a cluster: {:?}", config.server);
        };
        let mut ports: Vec<u16> = hosts.iter().map(|server| server.port).collect();
        ports.sort_unstable();
        assert_eq!(ports, [7001, 7002, 7003]);
    }
}
