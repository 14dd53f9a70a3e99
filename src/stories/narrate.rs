//! Stories in plain language: a dated line for every event that mattered, quiet spells told in
//! one line, and why the customer stayed or left.

use super::{Referral, Stories, Story, StoryEvent};
use crate::engine::{Care, EpisodeTrace, TraceEvent, Voice};
use crate::report::format::human;
use std::fmt::Write;

/// What a period is called when a year has `periods_per_year` of them.
pub fn period_word(periods_per_year: f64) -> &'static str {
    [
        (12.0, "month"),
        (52.0, "week"),
        (4.0, "quarter"),
        (1.0, "year"),
    ]
    .into_iter()
    .find(|&(per_year, _)| per_year == periods_per_year)
    .map_or("period", |(_, word)| word)
}

/// Every story of `stories`, with a heading that says which run they come from.
pub fn narrate_all(stories: &Stories) -> String {
    let mut text = format!(
        "Customers' stories: {} under {}, replication {} (master seed {}), {} {}s.\n\
         Each is a replay of the simulated replication, customer by customer.\n",
        stories.scenario,
        stories.strategy,
        stories.replication,
        stories.master_seed,
        stories.periods,
        stories.period_word,
    );
    if stories.stories.is_empty() {
        text.push_str("\nNo customer in this run had a story worth telling.\n");
    }
    for story in &stories.stories {
        text.push('\n');
        text.push_str(&narrate(story, &stories.period_word, stories.periods));
    }
    text
}

/// One story: a heading, who the customer is, a line per event that mattered, and the ending.
pub fn narrate(story: &Story, period_word: &str, horizon: u32) -> String {
    let mut text = String::new();
    let when = |period: u32| format!("{} {period}", capitalised(period_word));
    let _ = writeln!(text, "Customer {} — {}", story.customer, story.kind.title());
    let channel = match story.distributor {
        Some(distributor) => format!("buys through distributor {distributor}"),
        None => "buys direct".to_string(),
    };
    let _ = writeln!(
        text,
        "In the {} segment{}; {}; knows {} {}.",
        story.segment,
        if story.novice {
            ", new to this kind of purchase (leans on trust)"
        } else {
            ""
        },
        channel,
        story.neighbours.len(),
        if story.neighbours.len() == 1 {
            "person"
        } else {
            "people"
        },
    );
    if let Some(initial) = story.initial {
        let _ = writeln!(
            text,
            "  Start: already a customer (trust {:.2}, commitment {:.2}).",
            initial.trust, initial.commitment
        );
    }

    // Events and friends who joined, in order; a run of quiet periods is told in one line.
    let mut quiet: Option<Quiet> = None;
    let mut referrals = story.referrals.iter().peekable();
    let mut paid = 0.0;
    let mut since: Option<u32> = None;
    let mut last_episode: Option<EpisodeTrace> = None;
    for event in &story.events {
        while let Some(referral) = referrals.next_if(|r| r.period < event.period) {
            match quiet.as_mut() {
                Some(spell) => spell.friends.push(*referral),
                None => {
                    text.push_str(&friend_joined(referral, &when));
                }
            }
        }
        if let TraceEvent::Episode(episode) = &event.event {
            paid += episode.revenue;
            last_episode = Some(*episode);
            if is_quiet(episode) {
                // A change of care starts a new spell.
                if quiet
                    .as_ref()
                    .is_some_and(|spell| spell.care != episode.care)
                {
                    flush(&mut text, &mut quiet, &when, period_word);
                }
                quiet.get_or_insert_with(|| Quiet::starting(event.period, episode));
                let spell = quiet.as_mut().expect("a spell was just started");
                spell.last = event.period;
                spell.bought += u32::from(episode.bought);
                spell.after = (episode.after.trust, episode.after.commitment);
                continue;
            }
        }
        flush(&mut text, &mut quiet, &when, period_word);
        // Friends who joined this period heard the customer at its start, before what happened
        // to it in the period.
        while let Some(referral) = referrals.next_if(|r| r.period == event.period) {
            text.push_str(&friend_joined(referral, &when));
        }
        let line = describe(event, &mut since, &story.neighbours);
        let _ = writeln!(text, "  {}: {line}", when(event.period));
    }
    flush(&mut text, &mut quiet, &when, period_word);
    for referral in referrals {
        text.push_str(&friend_joined(referral, &when));
    }

    // The ending: why it stayed or left.
    let tenure = |to: u32| match (since, story.initial) {
        (Some(from), _) => format!(" after {} as a customer", plural(to - from, period_word)),
        (None, Some(_)) => " (a customer since before the run began)".to_string(),
        (None, None) => String::new(),
    };
    let ending = match (story.active_at_end, last_episode) {
        (true, Some(episode)) => format!(
            "still a customer at {} {horizon}{}: with trust at {:.2} and commitment at {:.2}, \
             its chance of leaving was {} a {period_word}.",
            period_word,
            tenure(horizon),
            episode.after.trust,
            episode.after.commitment,
            percent(episode.leave_probability),
        ),
        (true, None) => {
            format!("became a customer just before the horizon ({period_word} {horizon}).")
        }
        (false, Some(episode)) if episode.left => {
            let left_at = story
                .events
                .iter()
                .rev()
                .find(|e| matches!(e.event, TraceEvent::Episode(ep) if ep.left))
                .map_or(horizon, |e| e.period);
            format!(
                "left in {period_word} {left_at}{}{}.",
                tenure(left_at),
                if left_at < horizon && story.events.iter().any(|e| e.period > left_at) {
                    ""
                } else {
                    " and did not come back"
                }
            )
        }
        (false, _) => "not a customer at the horizon.".to_string(),
    };
    let _ = writeln!(
        text,
        "  In the end: {ending} Over the run it paid the firm {}.",
        human(paid)
    );
    text
}

/// The line for a friend who joined on the customer's word.
fn friend_joined(referral: &Referral, when: &impl Fn(u32) -> String) -> String {
    format!(
        "  {}: customer {}, a friend, joined on its word.\n",
        when(referral.period),
        referral.friend
    )
}

/// A run of uneventful periods (nothing failed, nothing changed), told in one line.
struct Quiet {
    first: u32,
    last: u32,
    bought: u32,
    before: (f64, f64),
    after: (f64, f64),
    care: Care,
    /// Friends who joined on the customer's word during the spell.
    friends: Vec<Referral>,
}

impl Quiet {
    /// A spell that starts with `episode` in `period`.
    fn starting(period: u32, episode: &EpisodeTrace) -> Self {
        Self {
            first: period,
            last: period,
            bought: 0,
            before: (episode.before.trust, episode.before.commitment),
            after: (0.0, 0.0),
            care: episode.care,
            friends: Vec::new(),
        }
    }
}

fn is_quiet(episode: &EpisodeTrace) -> bool {
    !episode.failed && !episode.price_rise && !episode.left
}

fn flush(text: &mut String, quiet: &mut Option<Quiet>, when: &impl Fn(u32) -> String, word: &str) {
    let Some(spell) = quiet.take() else {
        return;
    };
    let periods = spell.last - spell.first + 1;
    let span = if periods == 1 {
        when(spell.first)
    } else {
        format!("{}s {}–{}", capitalised(word), spell.first, spell.last)
    };
    let care = match spell.care {
        Care::Personal => ", looked after by a key-account manager",
        Care::Automated => ", with the firm's automated care",
        Care::None => "",
    };
    let _ = write!(
        text,
        "  {span}: {} served well{care}; bought in {} of {}; trust {:.2} → {:.2}, \
         commitment {:.2} → {:.2}",
        if periods == 1 { "was" } else { "all" },
        spell.bought,
        periods,
        spell.before.0,
        spell.after.0,
        spell.before.1,
        spell.after.1,
    );
    let friends: Vec<String> = spell
        .friends
        .iter()
        .map(|r| format!("customer {} ({word} {})", r.friend, r.period))
        .collect();
    match friends.as_slice() {
        [] => text.push_str(".\n"),
        [one] => {
            let _ = writeln!(text, ". A friend joined on its word: {one}.");
        }
        many => {
            let _ = writeln!(
                text,
                ". {} friends joined on its word: {}.",
                many.len(),
                many.join(", ")
            );
        }
    }
}

/// One event that mattered, as a sentence. Notes in `since` when the customer joined.
fn describe(event: &StoryEvent, since: &mut Option<u32>, neighbours: &[usize]) -> String {
    match &event.event {
        TraceEvent::Acquired {
            referred,
            won_back,
            advocates_around,
            start,
        } => {
            *since = Some(event.period);
            let how = if *referred {
                let friends = match event.heard_from.as_slice() {
                    [] => format!("{advocates_around} friends"),
                    [one] => format!("a friend (customer {one})"),
                    many => format!(
                        "friends (customers {})",
                        many.iter()
                            .map(|f| f.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                format!("heard good things from {friends}, and")
            } else {
                "saw the firm's advertising and".to_string()
            };
            let verb = if *won_back {
                "came back as a customer"
            } else {
                "became a customer"
            };
            format!(
                "{how} {verb} (trust {:.2}, commitment {:.2}).",
                start.trust, start.commitment
            )
        }
        TraceEvent::Deterred { detractors_around } => format!(
            "was ready to buy, but {} spoke against the firm, and it stayed away.",
            plural(*detractors_around, "neighbour")
        ),
        TraceEvent::Speaks { voice } => match voice {
            Voice::Advocate => format!("now speaks well of the firm to {}.", whom(neighbours)),
            Voice::Detractor => format!("now speaks against the firm to {}.", whom(neighbours)),
            Voice::Silent => "no longer talks about the firm.".to_string(),
        },
        TraceEvent::Episode(episode) => describe_episode(episode),
    }
}

fn describe_episode(episode: &EpisodeTrace) -> String {
    let mut parts = Vec::new();
    if episode.price_rise {
        parts.push("the introductory price ended and the rise felt opportunistic".to_string());
    }
    if episode.failed && episode.recovered {
        parts.push("an order went wrong and the firm put it right".to_string());
    } else if episode.failed {
        parts.push("an order went wrong and the firm did not put it right".to_string());
    }
    if episode.care == Care::Personal {
        parts.push("a key-account manager looked after it".to_string());
    }
    if episode.rival_campaign {
        parts.push("a rival ran a campaign".to_string());
    }
    if parts.is_empty() {
        parts.push("an ordinary period".to_string());
    }
    let mut sentence = parts.join("; ");
    let _ = write!(
        sentence,
        ": trust {:.2} → {:.2}, commitment {:.2} → {:.2}",
        episode.before.trust,
        episode.after.trust,
        episode.before.commitment,
        episode.after.commitment
    );
    if episode.bought {
        let _ = write!(sentence, "; it bought ({:.0})", episode.revenue);
    }
    let chance = percent(episode.leave_probability);
    if episode.left {
        let _ = write!(sentence, ". Chance of leaving: {chance}; it left.");
    } else {
        let _ = write!(sentence, ". Chance of leaving: {chance}; it stayed.");
    }
    sentence
}

/// The people a customer talks to: "its 3 friends (customers 4, 9, 12)", the first few named.
fn whom(neighbours: &[usize]) -> String {
    const NAMED: usize = 6;
    let named: Vec<String> = neighbours
        .iter()
        .take(NAMED)
        .map(usize::to_string)
        .collect();
    let more = if neighbours.len() > NAMED {
        ", …"
    } else {
        ""
    };
    match neighbours.len() {
        0 => "no one (it knows no one)".to_string(),
        1 => format!("its one friend (customer {})", named[0]),
        n => format!("its {n} friends (customers {}{more})", named.join(", ")),
    }
}

fn percent(probability: f64) -> String {
    if probability < 0.01 {
        format!("{:.1} %", probability * 100.0)
    } else {
        format!("{:.0} %", probability * 100.0)
    }
}

fn plural(count: u32, word: &str) -> String {
    if count == 1 {
        format!("1 {word}")
    } else {
        format!("{count} {word}s")
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_named_by_how_many_make_a_year() {
        assert_eq!(period_word(12.0), "month");
        assert_eq!(period_word(52.0), "week");
        assert_eq!(period_word(4.0), "quarter");
        assert_eq!(period_word(1.0), "year");
        assert_eq!(period_word(26.0), "period");
    }

    #[test]
    fn whom_names_the_first_few_friends() {
        assert_eq!(whom(&[]), "no one (it knows no one)");
        assert_eq!(whom(&[7]), "its one friend (customer 7)");
        assert_eq!(whom(&[1, 2]), "its 2 friends (customers 1, 2)");
        assert_eq!(
            whom(&[1, 2, 3, 4, 5, 6, 7]),
            "its 7 friends (customers 1, 2, 3, 4, 5, 6, …)"
        );
    }

    #[test]
    fn small_chances_keep_a_decimal() {
        assert_eq!(percent(0.004), "0.4 %");
        assert_eq!(percent(0.123), "12 %");
        assert_eq!(plural(1, "month"), "1 month");
        assert_eq!(plural(3, "month"), "3 months");
    }
}
