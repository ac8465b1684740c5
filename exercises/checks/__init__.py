"""The graders, one module per part of the course: autograd.py (exercises 1-3),
losses.py (4-6), attention.py (7-9), training.py (10-12). Each ``check_*`` takes the
student's functions (a ``grading.Student``) and the number of random cases, raises
``grading.Mistake`` at the first thing that is wrong, and returns what it verified."""
