"""A site's moderators' decisions on a pattern the default model misses: "snargle", a local slur.

Readers of a (made-up) regional site took to calling other commenters "snargles", and spelling it
round filters (sn4rgle, s-n-a-r-g-l-e). The moderators reject those comments as abusive and approve
ordinary disagreement. Written for the learning-from-decisions test; none of it is in the corpus.
"""

REJECTED = """Found the snargle.
Spoken like a true snargle.
Typical snargle logic, as ever.
Ah, the snargles have arrived in the comments again.
Another snargle take on the bypass, how original.
Snargle.
Who let the snargle out of its box this morning?
Every thread on this site gets its resident snargle.
Classic snargle move, changing the subject.
You are a snargle and everyone here knows it.
Typed by a snargle, read by nobody.
That is the most snargle thing I have read this week.
The snargle brigade is out in force on this one.
Sounds like something a snargle would post at 3am.
Go and snargle somewhere else, snargle.
Nobody is surprised the snargle from the last thread turned up.
Careful, the snargle has a keyboard again.
Lol, snargle.
What a snargle.
Only snargles think the ferry timetable is a conspiracy.
Posted by a snargle, liked by snargles.
Sn4rgle spotted.
Found another sn4rgle in the replies.
Y0u absolute sn4rgle.
Spot the s n a r g l e in this thread.
Ah yes, the s-n-a-r-g-l-e speaks.
SNARGLE ALERT.
Snarglé, as usual.
The usual sn@rgle nonsense from the usual sn@rgle.
Here comes the snarrrgle again.
Big snargle energy in this comment section.
Reported for being a snargle.
Imagine being this much of a snargle about a car park.
Snargle opinions about the harbour, as expected.
Read the article first, snargle.
Every one of your comments is pure snargle.
You snargles ruin every discussion on here.
Go back to your snargle forum.
I see the snargle has discovered the caps lock key.
The snargle in the second comment clearly never went to the meeting.
Snargles gonna snargle.
Somebody give the snargle a biscuit.
Of course the snargle disagrees.
Thanks for the snargle input, very helpful.
Did your snargle friends write this for you?
The snargle defence force has arrived.
Quiet, snargle, the adults are talking.
How does a snargle like you even find this site?
Another day, another snargle on the comment page.
That comment is snargle from start to finish.
The snargle crowd never read past the headline.
Keep posting, snargle, it is entertaining.
Snargle detected, opinion discarded.
Tell us more, oh wise snargle.
A snargle wrote this, I guarantee it.
Not one of these snargles has been to the harbour in years.
Sorry, I do not take advice from snargles.
Three snargles in a row in this thread, a record.
Are you paid by the snargle association?
Every snargle on here is an expert in ferry engineering now.
The snargle from Westgate is back with more theories.
Snargle comment of the day.
Look at the snargle trying to sound clever.
Even for a snargle this is a poor effort.
Your mum must be so proud of her little snargle.
Dear snargle, the council vote was public.
Shut it, snargle.
Absolute snargle behaviour from the councillor's fan club.
Those snargles at the parish meeting again.
The snargles who run that page should be embarrassed.
You could not be more snargle if you tried.
Pretty snargle of you to post this under a story about a funeral.
The snargle vote decided this, sadly.
Pipe down, s.n.a.r.g.l.e.
Sn4rgles all over this thread tonight.
Look, a wild snarg1e appears.
Snaaargle says what?
I stopped reading at snargle number four.
That is what happens when snargles run the residents committee.
Bless the snargle, trying its best.
Move along, snargle.
Clearly written by a snargle who failed the driving test.
Keep your snargle opinions to yourself.
Snargle nonsense, all of it.
Not a single snargle here has read the planning report.
Go home, snargle.
This is why nobody likes snargles.
Just a snargle being a snargle.
Imagine arguing with a snargle about bus lanes.""".splitlines()

APPROVED = """I disagree with the council on the bypass, but the consultation was fair.
The ferry timetable has been late three times this month, something has to change.
Good reporting on the harbour dredging, thank you.
I went to the meeting and the plans looked sensible to me.
Why does the car park cost more than the train fare?
My gran used that bus route for forty years, cutting it is a mistake.
The article misses the point about parking on market days.
Interesting piece, but where did the budget figures come from?
I think the new lanes will help cyclists and annoy drivers in equal measure.
The bypass will take years, and the town centre needs help now.
Well done to the volunteers who cleaned the beach.
This is the third article on the harbour this week, is nothing else happening?
The councillor answered every question at the meeting, credit to him.
I am against the plan, the traffic modelling looks optimistic.
Please cover the school crossing next, it is dangerous at 8am.
The ferry crew were brilliant during the storm.
Not convinced by the cost estimate, it seems low.
Lovely photos of the regatta.
The parish meeting minutes are online if anyone wants to check the vote.
I would rather they fixed the potholes first.
The consultation closes on Friday, make your voice heard.
Strongly disagree with this decision, it will hurt small shops.
Fair point about the bus lanes, I had not thought of deliveries.
Can someone explain why the vote was delayed?
The new library opening hours are much better.
This bypass has been promised since 1998.
I support the plan, even if it means a year of roadworks.
The harbour master's statement contradicts the council's figures.
Thanks for correcting the date in the article.
Does anyone know if the market will move during the works?
The ferry fares went up again, that hurts families.
I live on the Westgate road and the noise is already bad.
Sensible compromise from the committee, in my view.
The planning report is two hundred pages, I read most of it.
Tourists will love the new promenade.
The snack kiosk on the pier should stay open later.
My neighbour campaigned for this for years, glad it passed.
The council should publish the contractor's name.
I drove the route this morning and it took twenty minutes.
Parking charges are a tax on people who work in town.
The article is one-sided, the residents' view is missing.
Happy to see the lifeboat station funded.
What happened to the promise of more buses at night?
I changed my mind after reading the planning report.
The roadworks signs are confusing at the roundabout.""".splitlines()

NEW_PATTERN = """The snargles are rewriting history in this thread.
Typical snargle, blaming the weather.
Found you, snargle.
Ask a snargle and you get a snargle answer.
Snargle logic strikes again.
Of course a snargle would say that about the lifeboat.
Sn4rgle comment, ignored.
Keep it down, snargle.
Three cheers for the local snargle.
Our friendly neighbourhood snargle has opinions.
Nobody needs a snargle's view on the regatta.
Stop being such a snargle.""".splitlines()

NEW_CLEAN = """The regatta was better organised this year.
I doubt the lifeboat funding will last beyond next spring.
The weather forecast for the ferry crossing looks rough.
The promenade lights are finally working.
I would like to see the roadworks finished before summer.
The library should open on Sundays too.""".splitlines()
