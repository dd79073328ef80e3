//! Which recipients have a mailbox here. A recipient is accepted only when
//! its local part is one of `smtp.users` and its domain one of
//! `smtp.domains` (both compared without regard to ASCII case); its folder is
//! named after the configured user, never after what the client sent, so no
//! address can become a path.

/// A recipient that has a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The configured user: the folder under `mail/`.
    pub user: String,
    /// The address as the client gave it (for `Delivered-To:`).
    pub address: String,
}

/// The allow-list.
#[derive(Debug, Clone)]
pub struct Mailboxes {
    users: Vec<String>,
    domains: Vec<String>,
    /// Who receives `postmaster` (RFC 5321, 4.5.1 requires it).
    postmaster: Option<String>,
}

impl Mailboxes {
    /// The mailboxes of `users` at each of `domains`.
    pub fn new(users: &[String], domains: &[String]) -> Self {
        Self {
            postmaster: users.first().cloned(),
            users: users.to_vec(),
            domains: domains
                .iter()
                .map(|d| d.trim_end_matches('.').to_ascii_lowercase())
                .collect(),
        }
    }

    /// Routes `postmaster` at any of the domains (and at `localhost`, what
    /// a bare `<postmaster>` is read as) to `user`'s mailbox.
    pub fn with_postmaster(mut self, user: &str) -> Self {
        self.postmaster = Some(user.to_owned());
        self
    }

    /// The mailbox `address` (`local@domain`, no angle brackets) is
    /// delivered to, or `None` when there is none: mail for it is refused.
    pub fn resolve(&self, address: &str) -> Option<Mailbox> {
        if address.is_empty()
            || address.len() > 254
            || !address.chars().all(|c| c.is_ascii_graphic())
        {
            return None;
        }
        let (local, domain) = address.rsplit_once('@')?;
        let domain = domain.trim_end_matches('.');
        let ours = self.domains.iter().any(|d| d.eq_ignore_ascii_case(domain));
        if local.eq_ignore_ascii_case("postmaster")
            && (ours || domain.eq_ignore_ascii_case("localhost"))
        {
            return self.postmaster.as_ref().map(|user| Mailbox {
                user: user.clone(),
                address: address.to_owned(),
            });
        }
        if !ours {
            return None;
        }
        let user = self.users.iter().find(|u| u.eq_ignore_ascii_case(local))?;
        Some(Mailbox {
            user: user.clone(),
            address: address.to_owned(),
        })
    }

    /// The configured users, whose folders exist.
    pub fn users(&self) -> &[String] {
        &self.users
    }
}

/// Whether `user` is safe as a folder name: 1 to 64 of `a-z 0-9 . _ -`, not
/// starting with a dot (so never `.`, `..` or a hidden folder).
pub fn is_safe_user(user: &str) -> bool {
    (1..=64).contains(&user.len())
        && !user.starts_with('.')
        && user
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> Mailboxes {
        let users = ["you".to_owned(), "another".to_owned()];
        let domains = ["localhost".to_owned(), "example.com".to_owned()];
        Mailboxes::new(&users, &domains)
    }

    #[test]
    fn the_seeds_recipients_resolve_to_their_users_folders() {
        let boxes = seed();
        assert_eq!(boxes.resolve("you@example.com").unwrap().user, "you");
        assert_eq!(boxes.resolve("another@localhost").unwrap().user, "another");
        let shouted = boxes.resolve("YOU@Example.COM").unwrap();
        assert_eq!(shouted.user, "you");
        assert_eq!(shouted.address, "YOU@Example.COM");
        assert!(boxes.resolve("you@example.com.").is_some());
    }

    #[test]
    fn anyone_else_is_refused() {
        let boxes = seed();
        for address in [
            "unknown@example.com",
            "you@other.org",
            "you",
            "@example.com",
            "you@",
            "../x@example.com",
            "you/..@example.com",
            "you@example.com/../..",
            "you@example.com\r\nBcc: x@evil.example",
            "\"you\"@example.com",
            "you@exa mple.com",
        ] {
            assert_eq!(boxes.resolve(address), None, "{address:?}");
        }
    }

    #[test]
    fn postmaster_goes_to_its_configured_mailbox() {
        let boxes = seed();
        assert_eq!(boxes.resolve("postmaster@example.com").unwrap().user, "you");
        assert_eq!(boxes.resolve("PostMaster@localhost").unwrap().user, "you");
        let boxes = seed().with_postmaster("another");
        assert_eq!(
            boxes.resolve("postmaster@example.com").unwrap().user,
            "another"
        );
        assert_eq!(boxes.resolve("postmaster@other.org"), None);
    }

    #[test]
    fn safe_users_are_plain_names() {
        assert!(is_safe_user("you"));
        assert!(is_safe_user("a.b-c_1"));
        for bad in ["", ".", "..", ".x", "a/b", "A", "x y", &"x".repeat(65)] {
            assert!(!is_safe_user(bad), "{bad:?}");
        }
    }
}
