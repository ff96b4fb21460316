"""The derogation rule: dehumanising or derogatory generalisations about a group raise identity attack."""

from __future__ import annotations

import pytest

from moderation.derogation import AFFIRMED_AT_MOST, FLOOR, affirmation_only, derogation_spans, with_line_ends
from moderation.normalise import normalise, normalise_text
from moderation.policy import load_policy
from moderation.scorer import worst_of
from tests.conftest import ROOT


def _found(text: str) -> list[str]:
    norm = normalise(text)
    read = with_line_ends(norm)
    return [read[a:b] for a, b in derogation_spans(read, norm)]


@pytest.mark.parametrize(("text", "span"), [
    ("Women are disgusting and worthless.", "xxgroup are disgusting"),
    ("Muslims are vermin.", "xxgroup are vermin"),
    ("Immigrants are nothing but criminals.", "xxgroup are nothing but criminals"),
    ("I can't stand it: you gays are all disgusting, honestly.", "you xxgroup are all disgusting"),
    ("Immigrants are like animals.", "xxgroup are like animals"),
    ("Jews are a plague on this country.", "xxgroup are a plague"),
    ("Gay people are not human.", "xxgroup are not human"),
    ("Muslims are no better than animals.", "xxgroup are no better than animals"),
    ("I think women are stupid.", "xxgroup are stupid"),
    ("Musilms are vermin.", "xxgroup are vermin"),  # after normalisation (a slip of the group word)
    ("Great article. Refugees are parasites! Send them back.", "xxgroup are parasites"),
    # found by a review: an apostrophe is no quotation, a lead-in after a break is no report
    ("Muslims are vermin and that\u2019s a fact.", "xxgroup are vermin"),
    ("Immigrants are filth, the lot of 'em.", "xxgroup are filth"),
    ("Call me racist, but immigrants are parasites.", "xxgroup are parasites"),
    ("I'll say it: Jews are a plague.", "xxgroup are a plague"),
    ("Immigrants are no more than parasites.", "xxgroup are no more than parasites"),
    ("Muslims are sub-human.", "xxgroup are sub-human"),
    # found by a second review: a word for people after the group, a list of groups, a quotation elsewhere
    ("Muslim men are rapists.", "xxgroup men are rapists"),
    ("Muslims and Jews are vermin.", "xxgroup and xxgroup are vermin"),
    ("Muslims, Jews and gays are vermin.", "xxgroup, xxgroup and xxgroup are vermin"),
    ('Muslims are vermin, and I don\'t care what the "experts" say.', "xxgroup are vermin"),
    ("Immigrants are filth, the lot of 'em, and their kids' schools too.", "xxgroup are filth"),
])
def test_a_generalisation_is_found(text, span):
    assert _found(text) == [span]


@pytest.mark.parametrize(("text", "span"), [
    # a word for people after the word, "too ... to", a participle saying more of the same
    ("Women are inferior beings.", "xxgroup are inferior beings"),
    ("Muslims are disgusting people who should leave.", "xxgroup are disgusting people"),
    ("Women are too stupid to vote.", "xxgroup are too stupid"),
    ("Gay people are vermin spreading disease.", "xxgroup are vermin"),
    # a question that takes the generalisation as given
    ("Why are women so stupid?", "why are xxgroup so stupid"),
    ("Why are Muslims all so fucking disgusting?", "why are xxgroup all so fucking disgusting"),
    # violence wished on the group, said of it ...
    ("Black people should all be killed.", "xxgroup should all be killed"),
    ("I think that disabled people should all be killed.", "xxgroup should all be killed"),
    ("Muslims, Jews and gays should be shot.", "xxgroup, xxgroup and xxgroup should be shot"),
    ("Immigrants must die.", "xxgroup must die"),
    ("Muslims don't deserve to live.", "xxgroup don't deserve to live"),
    ("Jews have no right to exist.", "xxgroup have no right to exist"),
    ("Trans people should not be allowed to exist.", "xxgroup should not be allowed to exist"),
    # ... or urged by the writer
    ("I'm going to kill all Jews.", "i'm going to kill all xxgroup"),
    ("We should exterminate the gays.", "we should exterminate the xxgroup"),
    ("Kill every last one of the immigrants!", "kill every last one of the xxgroup"),
    ("Honestly, let's just gas the Jews.", "let's just gas the xxgroup"),
    ("Death to Muslims!", "death to xxgroup"),
    # the writer's own hatred of the group
    ("I really hate immigrants.", "i really hate xxgroup"),
    ("I despise women.", "i despise xxgroup"),
    ("I hate all Muslims, they live like pigs.", "i hate all xxgroup"),
    # found by a review of these shapes: other ways of naming the whole group, words after the violence
    ("Every Muslim should be killed.", "every xxgroup should be killed"),
    ("All of the Muslims should die.", "all of the xxgroup should die"),
    ("Jews should be gassed again.", "xxgroup should be gassed"),
    ("Immigrants should be wiped out completely.", "xxgroup should be wiped out"),
    ("Kill all Muslims now!", "kill all xxgroup"),
    ("Kill all Muslims, Jews and gays.", "kill all xxgroup, xxgroup and xxgroup"),
    ("Muslims don't deserve to live on this earth.", "xxgroup don't deserve to live"),
    ("Trans people shouldn't even exist.", "xxgroup shouldn't even exist"),
    ("Someone should kill all the Jews.", "someone should kill all the xxgroup"),
    ("It's time to kill all the Jews.", "it's time to kill all the xxgroup"),
    ("Death to every Jew.", "death to every xxgroup"),
    ("I hate every single Muslim.", "i hate every single xxgroup"),
    ("We all hate Muslims.", "we all hate xxgroup"),
    ("Muslims are violent savages.", "xxgroup are violent savages"),
    # found by a second review: emoji or a dash around the statement, two group words ("Muslim women")
    ("\U0001F44D Muslims are vermin", "xxgroup are vermin"), ("\U0001F621 I hate Muslims \U0001F621", "i hate xxgroup"),
    ("- Kill all Jews \U0001F52A", "kill all xxgroup"), ("Muslim women should be killed.", "xxgroup xxgroup should be killed"),
    ("Muslims should die, all of them.", "xxgroup should die"), ("Muslims are vermin. That's a fact.", "xxgroup are vermin"),
    ("In my opinion, Muslims are vermin.", "xxgroup are vermin"),
    ("Muslims are vermin. Call me racist, I don't care.", "xxgroup are vermin"),  # hate says "racist" of itself
])
def test_other_shapes_of_hate_against_a_group_are_found(text, span):
    assert _found(text) == [span]


@pytest.mark.parametrize("text", [
    # questions that do not take the statement as given, and other questions
    "Why are women so underpaid?", "Do you think Muslims are terrorists?", "Why do people think immigrants are criminals?",
    "Should we kill all Muslims?", "Why are Muslims not stupid?",
    # the people or the violence are not what the sentence wishes on the group
    "Women should be allowed to vote.", "Muslims should never be killed for their faith.", "No Muslim deserves to die.",
    "Women should not live alone at night.", "Immigrants deserve to live in peace.", "Jews have no right to be silenced.",
    "Nobody should kill Muslims.", "I would never kill Jews.", "They want to kill all Jews.", "Hamas wants to kill all Jews.",
    "ISIS says we should kill all Christians.", "If we kill all the Muslims, there will be nothing left of us.",
    "Police kill black people at twice the rate.", "Stop killing Muslims.", "Don't kill Muslims.",
    "The rioters shouted 'kill all Jews' at the march.", "We should protect the Jews.",
    "Burn the Muslim flag? No thanks.", "We should burn the Muslim flag.",
    # not the writer's hatred of the group
    "I don't hate Muslims.", "I used to hate immigrants until I met some.", "I hate it when people call Muslims terrorists.",
    "I hate how women are treated.", "I hate Muslim extremists.", "I hate to say it, but I agree.",
    "Sarah said: I hate Jews.", "My grandfather hated Jews.",
    # the words are about something else
    "Women are too often the victims.", "Refugees are fleeing violent regimes.", "Immigrants are victims of violent crime.",
    "Women are dangerous drivers, says the insurer.", "Refugees are in dangerous conditions.",
    "Immigrants are useful people to know.",
    # found by a review of these shapes: a negation or a report before a comma or colon, a report after the
    # statement or in the next sentence, one person, violence that is not what is wished, everyday verbs,
    # questions about stereotypes, sarcasm, some of the group
    "We should not, under any circumstances, kill Muslims.", "Cops, sadly, kill black people with impunity.",
    "ISIS fighters behead journalists, burn pilots alive, rape women and sell children.",
    "The Taliban flog gays, stone adulterers, and kill Christians.", "Saudi courts, under Sharia, execute gays.",
    "In the West, we kill Muslims with drones and call it peace.", "Hitler's plan was simple: exterminate the Jews.",
    "The Nazis had one goal - exterminate the Jews.", "In 1942 the order came: gas the Jews.",
    "The graffiti on the synagogue read: Death to Jews.", "The mob chanted for hours; death to Jews, death to Israel.",
    "Kill the Jews, the gunman shouted as he opened fire.",
    "Kill all Jews - that's what the shooter posted online before the attack.",
    "I hate Muslims. That's what the man yelled at my daughter on the bus.",
    "Muslims should be executed. That's what the leaflet in my letterbox said.",
    "Women should not live and work in fear.", "Refugees don't deserve to live and die in squalid camps.",
    "Women don't deserve to live, work and raise children in fear.", "Refugees should not live, as they do now, in tents.",
    "Jews have no right to live and work in Hebron.",
    "I can't stand the woman, but she's right on this.", "I could kill the woman at the call centre.",
    "The woman should die in prison.", "The woman should be executed.", "The Muslim should be executed for this.",
    "These Pakistani men should be hanged for what they did to those girls.",
    "Black men have to die on camera before white America notices.",
    "So refugees have to die at sea before the EU acts.",
    "So women deserve to be raped for wearing a short skirt. Disgusting attitude.",
    "Muslims need to be shot at less by police.", "Women should hang on to their maiden names.",
    "Catholics should hang in there.", "Women should die with dignity.",
    "We're going to slaughter the Mexicans on Saturday.", "As a photographer, I shoot women and landscapes.",
    "I hate Chinese, too greasy for me.",
    "Why are Muslims the terrorists in every Hollywood film?", "Why are Black men always the criminals in these shows?",
    "How come Muslims are terrorists but white shooters are mentally ill?",
    "Why is it that Muslims are terrorists but white men are lone wolves?",
    "Why are Muslims so violent but Christians not?",
    "Yeah, let's just kill all the Muslims, that'll solve everything.", "Muslims should all be killed. /s",
    "Muslims are vermin. /s",
    "I hate Christians who use the Bible to justify bigotry.", "I can't stand Muslims with extremist views.",
    "Refugees are a burden sharing problem for the EU.",
    # found by a second review: everyday senses ("hang out", "burn off", a tournament), history or someone's view
    # put first, past tense, more ways of saying whose words they are, tropes, sarcasm, particular people
    "Muslims and Jews should hang out together.", "Women need to burn off more calories than men to lose weight.",
    "The Mexicans should be eliminated.", "I want to shoot women and couples for my portfolio.",
    "Until 1967, gays were criminals in England.", "In Nazi Germany, homosexuals were criminals.",
    "To the Nazis, Jews were vermin.", "Christians were vermin to Nero.", "In Leviticus, women are unclean during their period.",
    "For Hamas, Jews have no right to exist.", "To Hamas, Jews must die.", "For ISIS, gays must be executed.",
    "Under the Nazis' logic, disabled people should not exist.",
    "Disabled people should not exist: that is the logic of eugenics.",
    "The Nigerians were dangerous from set pieces.", "The Pakistanis were lazy in the field today.",
    "Muslims are vermin, my neighbour keeps saying.", "Jews must die, the leaflet read.",
    "Muslims should be shot, he texted his brother.", "The defendant's manifesto: Jews are vermin.",
    "Kill the Jews. That was the order given in 1942.", "Death to the Jews. Those words were painted on the synagogue.",
    "The defendant said... kill all Jews.", "Then he yelled\u2026 death to Jews!",
    "Muslims are terrorists, immigrants are criminals, women are hysterical. The same tired tropes every time.",
    "Apparently, immigrants are criminals.", "Of course, immigrants are criminals. Never mind the stats.",
    "Why are Muslims so evil? Because the tabloids tell you so.",
    "These Christians are a disgrace to their faith.", "Those Muslims are criminals and should be jailed.",
])
def test_other_shapes_are_left_alone_when_negated_reported_asked_or_about_something_else(text):
    assert _found(text) == []


@pytest.mark.parametrize(("text", "span"), [
    # disgust at the whole group
    ("Immigrants make me sick.", "xxgroup make me sick"),
    ("Gay people disgust me.", "xxgroup disgust me"),
    ("Muslims make me want to throw up.", "xxgroup make me want to throw up"),
    ("Honestly, Jews just make me sick to my stomach.", "xxgroup just make me sick"),
    # the group put in a cage, a prison, a camp or the kitchen
    ("Women belong in the kitchen.", "xxgroup belong in the kitchen"),
    ("Immigrants belong in cages.", "xxgroup belong in cages"),
    ("Gays belong in prison!", "xxgroup belong in prison"),
    ("Muslims belong behind bars, all of them.", "xxgroup belong behind bars"),
    # the conspiracy of a group in charge
    ("Jews control the media.", "xxgroup control the media"),
    ("The Jews own the banks and the press.", "the xxgroup own the banks and the press"),
    ("Jews run Hollywood.", "xxgroup run hollywood"),
    # distrust of the whole group
    ("Never trust a Muslim.", "never trust a xxgroup"),
    ("You can't trust Jews.", "you can't trust xxgroup"),
    ("I'd never trust an immigrant.", "i'd never trust an xxgroup"),
    # the writer's threat to each one met
    ("I'm going to kill every Muslim I see.", "i'm going to kill every xxgroup i see"),
    ("I will hurt any gay person I meet.", "i will hurt any xxgroup person i meet"),
    ("I'll stab every Jew on sight.", "i'll stab every xxgroup on sight"),
    # a question that takes a generalisation as given
    ("Why is it that all immigrants are criminals?", "why is it that all xxgroup are criminals"),
    ("Isn't it obvious that women are inferior?", "isn't it obvious that xxgroup are inferior"),
    ("Don't you think Muslims are vermin?", "don't you think xxgroup are vermin"),
    # the world better without the group
    ("The world would be better without Muslims.", "the world would be better without xxgroup"),
    ("We'd be better off without immigrants.", "we'd be better off without xxgroup"),
    ("I think this country would be a lot safer without any refugees.",
     "this country would be a lot safer without any xxgroup"),
    ("Wouldn't the world be better without Jews?", "wouldn't the world be better without xxgroup"),
    # found by a review of these shapes: a typographic apostrophe (as phones type it), "you see", "a better place",
    # "we'd all", words after the insult in a question, one woman for all, no comma before "not", "are controlling"
    ("Don\u2019t trust Muslims.", "don\u2019t trust xxgroup"),
    ("I\u2019ll kill every Muslim I see.", "i\u2019ll kill every xxgroup i see"),
    ("Muslims don\u2019t deserve to live.", "xxgroup don\u2019t deserve to live"),
    ("Wouldn\u2019t the world be better without Jews?", "wouldn\u2019t the world be better without xxgroup"),
    ("Kill every Muslim you see.", "kill every xxgroup you see"),
    ("The world would be a better place without Muslims.", "the world would be a better place without xxgroup"),
    ("We'd all be better off without immigrants.", "we'd all be better off without xxgroup"),
    ("Isn't it obvious that women are inferior to men?", "isn't it obvious that xxgroup are inferior"),
    ("A woman belongs in the kitchen.", "a xxgroup belongs in the kitchen"),
    ("A woman's place is in the kitchen.", "a xxgroup's place is in the kitchen"),
    ("Women belong in the kitchen not in the workplace.", "xxgroup belong in the kitchen"),
    ("Jews are controlling the media.", "xxgroup are controlling the media"),
    ("Never trust Muslims or Jews.", "never trust xxgroup or xxgroup"),
    ("Jews control the media... and Hollywood.", "xxgroup control the media"),
])
def test_disgust_exclusion_conspiracy_distrust_threats_and_leading_questions_are_found(text, span):
    assert _found(text) == [span]


@pytest.mark.parametrize(("text", "span"), [
    # found by a second review of these shapes, each a regression its first fixes made in the older shapes too: an
    # ellipsis read as going on ("I'm not racist... but ..."), consequences read as warnings, lists with "all" or
    # "the" before a later group or words after them, the "no" answer read after every question, hearsay and
    # counter-speech words the writer denies or owns, "ah", verbs with no sporting sense
    ("I'm not racist... but Muslims are vermin.", "xxgroup are vermin"),
    ("Call me racist if you like... but I hate Muslims.", "i hate xxgroup"),
    ("Kill all Jews and the world will be better.", "kill all xxgroup"),
    ("Let's kill all Muslims and the world will thank us.", "let's kill all xxgroup"),
    ("Kill all Muslims or they will kill us.", "kill all xxgroup"),
    ("Death to Jews and the world will be free.", "death to xxgroup"),
    ("I hate all Muslims and all Jews.", "i hate all xxgroup and all xxgroup"),
    ("Kill the Muslims and the Jews.", "kill the xxgroup and the xxgroup"),
    ("I hate Jews and Muslims alike.", "i hate xxgroup"),
    ("Kill all Muslims and Jews in this country.", "kill all xxgroup and xxgroup in this country"),
    ("Kill all Jews, that's my philosophy.", "kill all xxgroup"),
    ("Why are women so stupid? No idea.", "why are xxgroup so stupid"),
    ("Why are Muslims so dirty? They don't wash.", "why are xxgroup so dirty"),
    ("Why is it that immigrants are lazy? I don't know, but they are.", "why is it that xxgroup are lazy"),
    ("Wouldn't the world be better without Jews? No doubt about it.", "wouldn't the world be better without xxgroup"),
    ("Muslims are vermin, apparently the truth hurts.", "xxgroup are vermin"),
    ("Muslims are vermin, or so I believe.", "xxgroup are vermin"),
    ("Jews own the banks, it's not a conspiracy theory.", "xxgroup own the banks"),
    ("Jews control the banks. Not a conspiracy theory, just look at the names.", "xxgroup control the banks"),
    ("Jews control the media. Call it a conspiracy theory if you want, I call it the truth.",
     "xxgroup control the media"),
    ("Jews are parasites. This isn't a canard, it's reality.", "xxgroup are parasites"),
    ("Ah, Muslims are vermin.", "xxgroup are vermin"),
    ("Torture the gays.", "torture the xxgroup"),
    ("Slaughter the Jews.", "slaughter the xxgroup"),
])
def test_hate_the_first_fixes_of_the_new_shapes_had_lost_is_found(text, span):
    assert _found(text) == [span]


@pytest.mark.parametrize(("text", "span"), [
    # negated positives: the writer's lack of regard for the whole group, the group not to be trusted, not mattering
    ("I don't respect women.", "i don't respect xxgroup"),
    ("I will never trust Muslims.", "i will never trust xxgroup"),
    ("Honestly, I don't like Muslims.", "i don't like xxgroup"),
    ("I don\u2019t trust Jews.", "i don\u2019t trust xxgroup"),
    ("We won't tolerate gays.", "we won't tolerate xxgroup"),
    ("Muslims can't be trusted.", "xxgroup can't be trusted"),
    ("Immigrants are not to be trusted.", "xxgroup are not to be trusted"),
    ("Immigrants are not worth anything.", "xxgroup are not worth anything"),
    # found by a review of these shapes: "aren't", "I'll", tails, lead-ins
    ("Immigrants aren't to be trusted.", "xxgroup aren't to be trusted"),
    ("Women aren't worth shit.", "xxgroup aren't worth shit"),
    ("I'll never trust Muslims.", "i'll never trust xxgroup"),
    ("I don't trust Muslims at all.", "i don't trust xxgroup at all"),
    ("I don't like Muslims because they are violent.", "i don't like xxgroup"),
    ("Personally, I don't like Muslims.", "i don't like xxgroup"),
    ("To be honest, I don't trust Muslims.", "i don't trust xxgroup"),
    ("I don't like Muslims, they are violent.", "i don't like xxgroup"),
])
def test_negated_positives_about_the_whole_group_are_found(text, span):
    assert _found(text) == [span]


@pytest.mark.parametrize("text", [
    "I don't like Muslims being attacked.", "I don't respect women who cheat.", "We can't accept more refugees.",
    "I don't trust immigrants to the tabloids.", "Black lives matter.", "Black lives don't matter to this government.",
    "They act like Black lives don't matter.", "Do Black lives not matter?", "I don't like it when people attack Muslims.",
    "I don't trust those immigrants, they looked shifty.", "Muslims can't be trusted? Says who?",
    "The message was clear: Black lives don't matter to them.", "Saying Muslims can't be trusted is bigotry.",
    "I don't like Chinese.", "I don't like Mexican food.", "We don't tolerate attacks on Muslims.",
    "I can't trust the Muslim doctor at my clinic.", "The idea that immigrants are not to be trusted is poison.",
    "I don't like women's football.", "Women's votes don't matter to this party.", "I don't like the Chinese government.",
    # found by a review: protest ("... lives don't matter" is left to the model), the writer's own correction,
    # "and neither do men", a condition, someone else's view or history, a rebuttal, wine
    "Black lives don't matter.", "The verdict is clear: Black lives don't matter.", "Sadly, Black lives don't matter.",
    "I don't tolerate Muslims, I accept them.", "I don't like women, I love them.", "I don't like gays. I love them.",
    "I don't trust women, I trust my wife.", "I don't respect women, I respect people.",
    "Women can't be trusted, and neither can men.", "I don't trust women, or men for that matter.",
    "I don't trust refugees, unless they have papers.", "Muslims can't be trusted, unless they denounce Hamas.",
    "Refugees can't be trusted, if they've destroyed their documents.",
    "Women can't be trusted, as the judge put it in 1950.", "Christians are not to be trusted, Dawkins argues.",
    "Refugees are not worth saving, this government thinks.", "Women can't be trusted: that was the logic of the 1950s.",
    "Muslims can't be trusted. That's the line the Mail has pushed.", "Women can't be trusted. Nonsense.",
    "Muslims can't be trusted, it seems.", "I don't like whites, I prefer reds.", "I don't like whites, too acidic.",
])
def test_negated_positives_are_left_alone_about_something_else_some_of_the_group_or_asked(text):
    assert _found(text) == []


@pytest.mark.parametrize("text", [
    # negated, or not where the clause begins
    "Gay people don't disgust me at all.", "Immigrants don't make me sick.", "Attacks on Muslims make me sick.",
    "Saying immigrants make you sick is bigotry.", "The way they treat immigrants makes me sick.",
    "Women don't belong in the kitchen.", "The idea that women belong in the kitchen is outdated.",
    "Jews don't control the media.", "The idea that Jews control the media is an antisemitic myth.",
    "Don't trust anyone who says you can't trust Muslims.",
    # other places, other objects, some of the group or a condition
    "Women belong in the boardroom.", "Muslims belong here as much as anyone.",
    "Immigrants belong in prison if they commit crimes.", "Women belong in the kitchen as much as men do.",
    "Girls run the world!", "Women run the household in most of these villages.", "Muslims own the corner shop.",
    "Never trust a politician.", "Never trust the Muslim who runs that shop.", "You can't trust immigrants with a vote?",
    # questions that ask, contrasts, someone else's words, sarcasm
    "Why is it that women are paid less?", "Why is it that Muslims are criminals but white men are lone wolves?",
    "Do you think women are inferior?", "Isn't it obvious that women are underpaid?",
    "Immigrants make me sick, said the candidate.", "Yeah, the world would be better without Muslims, genius.",
    "Jews control the media. The oldest conspiracy myth there is.",
    # the world better without something else, or with the group
    "We'd be better off without Islamic extremism.", "The country would be better off with more immigrants.",
    "Without immigrants this country would collapse.", "The world would be better without racists.",
    # past, history and reports
    "In the 1950s, women belonged in the kitchen.", "For the Nazis, Jews controlled the media.",
    "I will hurt the Germans on Saturday.", "We'll stab the Mexicans in the back at the negotiations table.",
    # found by a review of these shapes: a list that goes on to some of the groups, a warning ("... and you ..."),
    # sport, running or controlling things that are no conspiracy, equality comebacks, particular people, how many
    # come, a question answered "no", a conspiracy named as one, sarcasm, a view's name before a colon, "his words"
    "Never trust Muslims or Christians who preach violence.",
    "Never trust Christians, Muslims or atheists who claim God is on their side.",
    "We'd be better off without Muslims and Christians who hate each other.",
    "I hate Christians, Muslims and Jews who want religious law.",
    "Harm any Muslim and you harm us all.", "Hurt the Jews and you hurt all of us.",
    "Kill the Jews and you become the Nazis.", "We can hurt the Mexicans.", "We will hurt the Mexicans, no doubt.",
    "Women run the media now, and good for them.", "Women now run the media and it shows in the coverage.",
    "Women control the money and that's fine with me.", "Hindus control the government now.",
    "Christians control Congress and always have.",
    "Women belong in the kitchen and the boardroom.", "Women belong in the kitchen, and so do men.",
    "Women belong in kitchens, and men belong in kitchens too.",
    "Women belong in the kitchen... and the boardroom, and parliament, and anywhere they want.",
    "Everyone would be better off without these Christians and their hypocrisy.",
    "We'd be better off without more immigrants.", "Britain would be better off without more migrants, frankly.",
    "Wouldn't Britain be better off without immigrants? No - the OBR says the opposite.",
    "Why is it that immigrants are criminals? They aren't. Stop it.",
    "Don't you think immigrants are lazy? I don't, they work harder than anyone.",
    "Jews control the media. Classic antisemitic conspiracy.",
    "Jews control the media. This conspiracy theory has been debunked a hundred times.",
    "Jews control the media, or so the conspiracy theorists say.", "Jews control the media, apparently.",
    "Ah yes, Jews control the media.", "Tate's philosophy: women belong in the kitchen.",
    "Women belong in the kitchen. Those were his exact words.",
    # found by a second review
    "Jews control the media, the old antisemitic lie.", "Jews control the media, a lie as old as time.",
    "Women belong in the kitchen... if they want to be.", "Immigrants make me sick, the way they are treated.",
    "Why is it that immigrants are lazy or criminals in every tabloid?",
    "Never trust a Jew, my dad used to say, and he was wrong.",
    "Wouldn't the world be better without Jews? Absolutely not, how dare you.",
    "Why is it that immigrants are criminals? They aren\u2019t.",
])
def test_the_new_shapes_are_left_alone_when_negated_asked_conditional_reported_or_about_something_else(text):
    assert _found(text) == []


@pytest.mark.parametrize("text", [
    "Women are not disgusting.",
    "Muslims aren't terrorists.",
    "Not all immigrants are criminals.",
    "No Muslim is evil.",
    "I don't think Muslims are terrorists at all.",
    "Immigrants are no more criminals than anyone else.",
    "Saying women are disgusting is wrong.",
    "The idea that immigrants are criminals is racist.",
    "'Muslims are vermin' is a vile thing to say.",
    "\u201cMuslims are vermin\u201d is vile.",
    "Refugees are treated like animals.",
    "Immigrants are victims of criminals.",
    "Jews are people.",
    "Women are here.",
    "Politicians are parasites.",  # no protected group
    "These rats are a plague on the allotments.",
    "",
    # found by a review: the group is not the subject of its clause, or not all of it, or one person of it ...
    "Using that word about disabled people is vile.", "Violence against women is a disgrace.",
    "Hatred of Muslims is evil.", "What happened to those refugees is disgusting.",
    "Not all of the immigrants are criminals.", "Not every single Muslim is evil.", "Very few immigrants are criminals.",
    "Only 2% of immigrants are criminals.", "Hardly any Muslims are terrorists.", "A tiny minority of Muslims are terrorists.",
    "Many refugees are mentally ill after what they went through.",
    "This woman is disgusting.", "Christian is useless at left back.", "My Chinese is rubbish.",
    # ... someone else's view, a question, sarcasm, or the word inside another phrase
    "Farage thinks Muslims are terrorists.", "Trump believes Mexicans are rapists.",
    "No intelligent person thinks that all Muslims are terrorists.", "If you think Muslims are evil, read a book.",
    "Muslims are terrorists? Give me a break.", "Oh right, because all Muslims are terrorists. Grow up.",
    "Women are not human incubators!", "Women are better than the rubbish this paper prints.",
    "Migrants are the dirty little secret of our farming industry.",
    # found by a second review: someone else's view after a comma, a list after "against", a quotation of several
    # sentences, other question and sarcasm marks, "more than"
    "According to the Daily Mail, Muslims are terrorists.", "In Nazi propaganda, Jews were vermin.",
    "Jews were vermin, according to Goebbels.", "Muslims are vermin, said the man in the dock.",
    "Hate crimes against Jews, Muslims, and gays are disgusting.", "The conditions for migrants, and refugees are disgusting.",
    'The leaflet read: "We have had enough. Immigrants are parasites. Vote BNP." Disgusting.',
    "Muslims are terrorists?!", "Immigrants are criminals /s", "Refugees are more than a burden, they are people.",
])
def test_negated_reported_quoted_or_harmless_statements_are_left_alone(text):
    assert _found(text) == []


def test_the_rule_raises_identity_attack_and_incitement_and_cites_the_statement(scorer):
    text = "Honestly? Women are disgusting and worthless."
    score = scorer.score(text)
    assert score.scores["identity_attack"] >= FLOOR and score.scores["incitement"] >= FLOOR
    _spans, heads = score.derogation
    assert "identity_attack" in heads and "incitement" in heads
    evidence = scorer.explain(text, ["incitement"], score=score)
    assert [(e.begin, e.end, e.text) for e in evidence] == [(10, 30, "Women are disgusting")]
    assert text[10:30] == "Women are disgusting"
    verdict = load_policy(ROOT / "data" / "policy.toml").decide(score, evidence)
    assert verdict.action == "hold", "held for a moderator, not rejected unseen"


def test_the_rule_never_lowers_a_score_and_leaves_other_comments_as_the_model_scored_them(scorer, monkeypatch):
    from moderation import scorer as scoring

    texts = ["Muslims are vermin and should be wiped out.", "Saying women are disgusting is wrong.",
             "The council voted to close the library.", "Women are disgusting and worthless."]
    with_rule = scorer.score_batch(texts)
    monkeypatch.setattr(scoring, "derogation_spans", lambda text, norm=None: [])
    without = scorer.score_batch(texts)
    for a, b in zip(with_rule, without):
        assert all(a.scores[h] >= b.scores[h] for h in a.scores)
        if not a.derogation:
            assert a.scores == b.scores
    assert not with_rule[1].derogation and not with_rule[2].derogation and with_rule[3].derogation
    assert without[3].scores["identity_attack"] < FLOOR <= with_rule[3].scores["identity_attack"]


def test_a_long_texts_worst_piece_keeps_no_spans_of_its_own_pieces(scorer):
    pieces = [s for _, _, s in scorer.score_pieces(["Women are disgusting. " + "Fine. " * 4_000])[0]]
    assert len(pieces) >= 2 and pieces[0].derogation
    assert worst_of(pieces).derogation == ()


def test_the_command_line_explanation_says_what_the_rule_raised(capsys):
    from moderation import cli

    assert cli.main(["explain", "Immigrants are nothing but criminals."]) == 0
    out = capsys.readouterr().out
    assert "a statement against a group, identity_attack" in out
    assert "'Immigrants are nothing but criminals'" in out


@pytest.mark.parametrize(("text", "span"), [
    # suffering the writer wishes to see or means to cause, elimination, threats to the next one met
    ("I'd love to see Muslims suffer.", "i'd love to see xxgroup suffer"),
    ("I'll make sure you gays suffer.", "i'll make sure you xxgroup suffer"),
    ("I want to see all immigrants die.", "i want to see all xxgroup die"),
    ("I'd like to see Jews burn in hell.", "i'd like to see xxgroup burn in hell"),
    ("We should get rid of Muslims once and for all.", "we should get rid of xxgroup"),
    ("Get rid of all the immigrants.", "get rid of all the xxgroup"),
    ("I'm going to shoot the next Muslim I see.", "i'm going to shoot the next xxgroup i see"),
    ("Muslims should be removed from this earth.", "xxgroup should be removed from this earth"),
    ("Gays should be wiped from the face of the earth.", "xxgroup should be wiped from the face of the earth"),
    # found by a review: passives, no subject or apostrophe, hopes and wants, a place after the group
    ("I'd love to see the Jews gassed.", "i'd love to see the xxgroup gassed"),
    ("I'd love to see all Muslims killed.", "i'd love to see all xxgroup killed"),
    ("Id love to see Muslims suffer.", "id love to see xxgroup suffer"),
    ("Cant wait to see Muslims suffer.", "cant wait to see xxgroup suffer"),
    ("Would love to see Muslims suffer.", "would love to see xxgroup suffer"),
    ("Gonna make sure the gays suffer.", "gonna make sure the xxgroup suffer"),
    ("I hope Muslims suffer.", "i hope xxgroup suffer"),
    ("I want Muslims to suffer.", "i want xxgroup to suffer"),
    ("Muslims should be wiped off the map.", "xxgroup should be wiped off the map"),
    ("We should get rid of all Muslims in this country.", "we should get rid of all xxgroup in this country"),
])
def test_suffering_wished_elimination_and_threats_to_the_next_one_are_found(text, span):
    assert _found(text) == [span]


@pytest.mark.parametrize("text", [
    "I'd hate to see refugees suffer.", "I don't want to see refugees suffer.", "I'd love to see women succeed.",
    "We should get rid of the Muslim ban.", "We need to get rid of illegal immigrants.",
    "I'd love to see those Muslims who attacked him suffer.", "I want to see immigrants thrive.",
    "We'll make sure refugees don't suffer.", "I'd like to see women in charge.",
    "Those who say Muslims should be removed from this earth are monsters.",
    "I'd love to see the Mexicans suffer on Saturday.", "We should get rid of the Muslims' right to vote?",
    # found by a review: predictions, a hyphen
    "We will see refugees starve.", "We would see refugees starve.", "We will watch refugees drown.",
    "We'll see immigrants suffer.", "We should get rid of women-only shortlists.", "I hope refugees don't suffer.",
])
def test_wished_suffering_and_elimination_are_left_alone_when_not_wished_on_the_whole_group(text):
    assert _found(text) == []


@pytest.mark.parametrize(("text", "span"), [
    # hate carried by a pronoun: in a clause after people the writer has met, or the next sentence after a short one
    # about the whole group
    ("I have met many Jews and I hate every single one of them.",
     "i have met many xxgroup and i hate every single one of them"),
    ("I've known lots of Muslims, and I despise them all.", "i've known lots of xxgroup, and i despise them all"),
    ("Refugees think they are special. I hate them.", "xxgroup think they are special. i hate them"),
    ("Immigrants keep coming. They are vermin.", "xxgroup keep coming. they are vermin"),
    ("Muslims are everywhere. I can't stand them.", "xxgroup are everywhere. i can't stand them"),
    ("Immigrants keep coming. They're vermin.", "xxgroup keep coming. they're vermin"),
    ("Refugees think they are special. Honestly, I hate them.", "xxgroup think they are special. honestly, i hate them"),
    ("Refugees think they are special. I hate them so much.", "xxgroup think they are special. i hate them so much"),
    ("Gay people want special treatment. I hate them all.", "xxgroup want special treatment. i hate them all"),
])
def test_hate_carried_by_a_pronoun_is_found(text, span):
    assert _found(text) == [span]


@pytest.mark.parametrize("text", [
    "Muslims are attacked by thugs. I hate them.", "I have met many Jews and I love every single one of them.",
    "Refugees think they are special. I hate that.", "Immigrants keep coming. They are desperate.",
    "Women voted for Trump. I hate them.", "Refugees are fleeing war. They are not vermin.",
    "Muslims who attack churches are evil. I hate them.",
    '"Refugees think they are special. I hate them." That is what the leaflet said.',
    "Immigrants keep coming. Do I hate them?", "The Muslim next door is loud. I hate him.",
    "My Muslim neighbours are lovely. I hate the people who attack them.",
    "Immigrants built this country. I hate those who forget it.", "Refugees drown in the sea. I hate it.",
    "Muslims pray five times a day. They are devout.",
    # found by a review: another plural, an article or "and" before another noun, a passive, a negation, the writer
    # saying whom they meant, a joke taken back
    "Women face double standards. I hate them.", "Women wear high heels. I hate them.", "Immigrants pay taxes. I hate them.",
    "Muslims fear the far right. They are scum.", "Refugees flee the Taliban. They are scum.",
    "Jews fled the Nazis. They are evil.",
    "Women get raped. They are animals.", "Women are abused daily. They are animals.", "Muslims are attacked. I hate them.",
    "Muslims and the police clashed. I hate them.", "Refugees are not criminals. I hate them.",
    "Refugees don't deserve this abuse. They are vermin.", "Muslims never harmed anyone. I hate them.",
    "Immigrants keep coming. I hate them, the smugglers.", "Women get abuse online. I hate them. The trolls.",
    "Refugees think they are special. I hate them. Just kidding.",
])
def test_a_pronoun_is_left_alone_where_it_may_stand_for_something_else_or_says_no_hate(text):
    assert _found(text) == []


@pytest.mark.parametrize("text", [
    "I hate the Mexicans, they always beat us.", "The Mexicans scored twice. I hate them.",
    "I cant wait to see the Mexicans suffer in the final!", "Never trust the Pakistanis, their bowlers are too good.",
    "The Nigerians make me sick, they dive every game.",
])
def test_a_nation_named_in_a_comment_about_sport_is_read_as_its_team(text):
    assert _found(text) == []


@pytest.mark.parametrize(("text", "span"), [
    ("I hate the Mexicans, they are all criminals.", "i hate the xxgroup"),  # no sport
    ("Muslims are vermin, they ruined the game.", "xxgroup are vermin"),  # no nation
])
def test_hate_of_a_nation_without_sport_or_of_others_with_it_is_still_found(text, span):
    assert _found(text) == [span]


@pytest.mark.parametrize("text", [
    "Jews are people.", "Muslims are people too!", "Immigrants are human beings.", "Trans people are valid.",
    "We are Jews.", "I'm a proud Muslim.", "Refugees are welcome here.", "Muslims are our neighbours. Jews are our neighbours.",
    "Muslims are not the enemy.", "I am a gay man.",
    # hate denied of the group
    "Immigrants are not criminals.", "Disabled people are not a burden.", "Gay people are not a disease.",
    "Women are not stupid!", "Muslims are not terrorists. Jews are not vermin.", "Refugees are never a burden.",
    "I don't hate Muslims.", "I don\u2019t hate Muslims.",
])
def test_a_comment_that_only_affirms_a_group_is_read_so(text):
    assert affirmation_only(with_line_ends(normalise(text)))


@pytest.mark.parametrize("text", [
    "Jews are people?", "Jews are people. Kill them all.", "Jews are people, but not like us.", "Trans women are men.",
    "Muslims are people who should leave.", '"Jews are people." Sure.', "Jews are people too, unfortunately.",
    "I'm a Muslim and I hate Jews.", "Women are women.", "They are people.", "Jews are people. " * 20,
    # found by a review: emoji or symbols before it, a link around it, an image after it, white pride, "you gays"
    "\U0001f98d Blacks are people too.", "\U0001f400\U0001f400 Jews are people.", "\u2721\U0001f525 Jews are people.",
    '<a href="https://example.org/hate">Jews are people.</a>', 'Jews are people.<img src="x.png">',
    "We are the white men.", "We are proud white men!", "You gays are people too.",
    # a denial that dehumanises, "not all", more after it
    "Muslims are not human.", "Jews are not even human.", "Muslims are not all terrorists.",
    "Immigrants are not criminals, they are parasites.", "Women are not stupid?",
    "Immigrants are not criminals. They are vermin.", "Muslims are not the problem, Jews are.",
    "I don't hate Muslims, but I don't trust them.", "I don't hate Muslims?", "I don't hate Muslims. I despise them.",
    # found by a review: "most" or "all" (the rest are), the past, "still"
    "Most Muslims are not vermin.", "All Muslims are not terrorists.", "Immigrants are all not criminals.",
    "Most Jews are people.", "I didn't hate Jews.", "Muslims are still not terrorists.",
])
def test_anything_more_than_affirming_a_group_is_not_read_as_an_affirmation(text):
    norm = normalise(text)
    assert not affirmation_only(with_line_ends(norm), norm.original)


def test_an_affirmation_in_paragraph_tags_as_coral_sends_it_is_read_so():
    norm = normalise("<p>Jews are people.</p>")
    assert affirmation_only(with_line_ends(norm), norm.original)


def test_an_affirmation_is_kept_under_every_hold_line_and_nothing_else_is_lowered(scorer, monkeypatch):
    from moderation import scorer as scoring

    texts = ["Jews are people.", "We are Jews.", "Jews are people. Kill them all.", "The council closed the library."]
    with_rule = scorer.score_batch(texts)
    monkeypatch.setattr(scoring, "affirmation_only", lambda text, original=None: False)
    without = scorer.score_batch(texts)
    # the model alone holds the first (README, Known gaps); kept, it is approved under the example policy
    assert without[0].scores["identity_attack"] > AFFIRMED_AT_MOST
    policy = load_policy(ROOT / "data" / "policy.toml")
    assert policy.decide(without[0], scorer.explain(texts[0], score=without[0])).action == "hold"
    assert policy.decide(with_rule[0], scorer.explain(texts[0], score=with_rule[0])).action == "approve"
    for a, b in zip(with_rule[:2], without[:2]):
        for head in ("identity_attack", "incitement", "toxicity", "personal_attack"):
            assert a.scores[head] == min(b.scores[head], AFFIRMED_AT_MOST)
        assert all(a.scores[h] == b.scores[h] for h in ("profanity", "threat", "spam"))
        assert set(a.affirmed) == {h for h in ("identity_attack", "incitement", "toxicity", "personal_attack")
                                   if b.scores[h] > AFFIRMED_AT_MOST}
    for a, b in zip(with_rule[2:], without[2:]):
        assert a.scores == b.scores and not a.affirmed


def test_hate_denied_of_a_group_is_approved_not_rejected_as_an_attack(scorer):
    """A review found "Women are not stupid!" rejected with a strike: 0.81 for personal attack, though it names no one."""
    policy = load_policy(ROOT / "data" / "policy.toml")
    for text in ("Women are not stupid!", "Immigrants are not criminals.", "I don't hate Muslims."):
        score = scorer.score(text)
        assert policy.decide(score, scorer.explain(text, score=score)).action == "approve", text


def test_the_command_line_explanation_says_what_an_affirmation_kept_down(capsys):
    from moderation import cli

    assert cli.main(["explain", "Jews are people."]) == 0
    assert "only affirms a group: " in capsys.readouterr().out


def test_long_texts_are_read_once():
    """Each statement reads a bounded stretch of its clause before it, so a long sentence of statements is not read
    again for each (a review found 1.6 s for 20,000 characters): here, every one of 1,000 statements is found."""
    text = normalise_text("Muslims are vermin, " * 1_000)
    assert len(derogation_spans(text)) == 1_000


@pytest.mark.parametrize(("text", "found"), [
    ("xxgroup men, " * 7_000 + "are vermin", 0),  # a review timed 18 s: each group read the list to its end
    ("xxgroup, " * 11_000 + "xxgroup are vermin", 0), ("xxgroup, " * 20 + "xxgroup are vermin", 1),
    ("xxgroup kill " + "all " * 25_000, 0), ("xxgroup " + "just " * 20_000 + "kill", 0),
    ("death to " + "xxgroup, " * 2_200, 1), ("death to " + "xxgroup, " * 20 + "xxgroup who", 0),
    ("kill all xxgroup. " * 1_100, 1_100),
])
def test_long_lists_and_runs_of_words_are_read_in_bounded_time(text, found):
    """Lists of groups and runs of intensifiers are read a bounded stretch at a time: a list of more than 21 groups is
    not read as a subject, from its first group or any later one."""
    assert len(derogation_spans(text)) == found


def test_many_quotation_marks_are_read_once():
    """Quotations are found with one pass and looked up by bisection (not every mark against every other)."""
    text = normalise_text("'a' " * 2_000 + "\u201cx\u201d " * 1_000 + ". Muslims are vermin.")
    assert len(derogation_spans(text)) == 1


@pytest.mark.parametrize(("text", "found"), [
    ("Great article\nMuslims are vermin.", True),
    ("<p>Great article</p><p>Muslims are vermin</p>", True),
    ("Great article<br>Muslims are vermin", True),
    ("Great article Muslims are vermin", False),  # one sentence, whose clause does not begin with the group
    ("The leaflet said\nMuslims are vermin.", False),  # the line before says whose view it is
])
def test_a_line_end_in_the_original_ends_a_sentence(scorer, text, found):
    score = scorer.score(text)
    assert bool(score.derogation) is found
    if found:
        (evidence,) = scorer.explain(text, ["incitement"], score=score)
        assert evidence.text == "Muslims are vermin" and text[evidence.begin:evidence.end] == evidence.text


def test_line_ends_keep_every_offset():
    from moderation.derogation import with_line_ends

    norm = normalise("<p>One</p>\n<p>two  three</p><br/>four\nfive six")
    marked = with_line_ends(norm)
    assert len(marked) == len(norm.text) and marked.replace("\n", " ") == norm.text
    assert marked == "one\ntwo three\nfour\nfive six"


def test_spans_point_into_the_normalised_text():
    norm = normalise("<p>Gay   people are   filthy animals</p>")
    (a, b), = derogation_spans(norm.text)
    begin, end = norm.original_span(a, b)
    assert norm.original[begin:end] == "Gay   people are   filthy animals"
